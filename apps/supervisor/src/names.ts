// Container ids and names, with Docker's rules: 64-hex ids, names [a-zA-Z0-9][a-zA-Z0-9_.-]+, generated names
// "adjective_surname" when none is given.
import { randomBytes } from 'node:crypto';
import { InvalidIdError, InvalidNameError } from './errors';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ID_RE = /^[0-9a-f]{64}$/;

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function checkId(id: string): string {
  if (!ID_RE.test(id)) throw new InvalidIdError(id);
  return id;
}

/** Accepts "/name" as docker does and returns it without the slash. */
export function checkName(name: string): string {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME_RE.test(n)) throw new InvalidNameError(name);
  return n;
}

const LEFT = ['admiring', 'brave', 'calm', 'dazzling', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen',
  'loving', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed', 'serene', 'tender', 'vibrant', 'wizardly', 'zealous'];
const RIGHT = ['albattani', 'babbage', 'curie', 'darwin', 'euclid', 'fermat', 'goldberg', 'hopper', 'joliot', 'kepler',
  'lovelace', 'meitner', 'noether', 'pascal', 'ritchie', 'shannon', 'turing', 'villani', 'wozniak', 'yalow'];

/** A readable name not in `taken`; a number is appended when the pairs run out, as docker does. */
export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 50; i++) {
    const pick = (a: string[]) => a[randomBytes(1)[0]! % a.length]!;
    const n = `${pick(LEFT)}_${pick(RIGHT)}` + (i >= 10 ? String(randomBytes(1)[0]! % 10) : '');
    if (!taken(n)) return n;
  }
  return `berth_${randomBytes(4).toString('hex')}`;
}
