// Signal names and numbers as docker accepts them: "TERM", "SIGTERM", "15".
import { constants } from 'node:os';
import { InvalidSignalError } from './errors';

const BY_NAME = constants.signals as Record<string, number>;

/** Returns the canonical "SIGXXX" name and number; throws InvalidSignalError for anything else. */
export function parseSignal(sig: string): { name: string; number: number } {
  const s = sig.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new InvalidSignalError(sig);
    const name = Object.keys(BY_NAME).find((k) => BY_NAME[k] === n) ?? (n >= 34 ? `SIGRTMIN+${n - 34}` : String(n));
    return { name, number: n };
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  const n = BY_NAME[name];
  if (n === undefined) throw new InvalidSignalError(sig);
  return { name, number: n };
}
