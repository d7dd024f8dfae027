// What every verb shares: one SDK connection (made on first use), output helpers, and the exit code.
import type { Berth } from '@berth/client';

let berth: Berth | undefined;

/** The SDK, connected to the services named by BERTH_RUN / BERTH_<SERVICE>_ADDR. */
export function connect(): Berth {
  if (!berth) {
    const { Berth: B } = require('@berth/client') as typeof import('@berth/client');
    berth = new B();
  }
  return berth;
}

export function closeConnections(): void {
  berth?.close();
  berth = undefined;
}

export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

export function err(s: string): void {
  process.stderr.write(s.endsWith('\n') ? s : s + '\n');
}

/** Collects a repeatable option's values. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}
