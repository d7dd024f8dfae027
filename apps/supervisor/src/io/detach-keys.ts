// Detach keys as docker takes them ("ctrl-p,ctrl-q", "ctrl-a,x"): a sequence that ends an attach session
// without touching the container. Input is passed through until the whole sequence matches.
import { InvalidArgumentError } from '@berth/service-kit';

export class InvalidDetachKeysError extends InvalidArgumentError {
  constructor(keys: string, part: string) {
    super(`invalid detach keys "${keys}": "${part}" is not a key (use a-z, ctrl-a .. ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_)`);
  }
}

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

export function parseDetachKeys(keys: string): Buffer {
  const out: number[] = [];
  // No keys: detaching is off (exec sessions).
  if (keys === '') return Buffer.alloc(0);
  for (const part of keys.split(',')) {
    if (part.length === 1) {
      out.push(part.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(part);
    if (!m) throw new InvalidDetachKeysError(keys, part);
    const ch = m[1]!;
    if (/[a-z]/.test(ch)) out.push(ch.charCodeAt(0) - 96);
    else if ('@[\\]^_'.includes(ch)) out.push('@[\\]^_'.indexOf(ch) === 0 ? 0 : 27 + '[\\]^_'.indexOf(ch));
    else throw new InvalidDetachKeysError(keys, part);
  }
  return Buffer.from(out);
}

/** Scans stdin for the detach sequence; bytes of a partial match are held back until it fails. */
export class DetachFilter {
  private held = 0;
  constructor(private readonly keys: Buffer) {}

  /** The bytes to forward, and whether the sequence completed (bytes after it are dropped). */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // Mismatch: release what was held, then look at this byte afresh.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (b === this.keys[0]) this.held = 1;
      else out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
