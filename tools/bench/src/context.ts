// What every case gets: the private berth, an SDK client in this (warm) process, which peers exist, and the
// busybox image loaded in berth and podman once (cases that remove it call ensureImages again).
import { Berth } from '@berth/client';
import type { BerthInstance } from './berth-instance';
import { berthCli } from './berth-instance';
import { run } from './exec';
import type { CaseResult } from './harness';

export const BUSYBOX = 'bench/busybox:latest';

export interface BenchContext {
  berth: BerthInstance;
  sdk: Berth;
  podman: boolean;
  docker: boolean;
  runs: number;
  big: boolean;
  /** RSS (MiB) of each berth process right after the instance started, before any case ran. */
  rssAtStart: Record<string, number>;
  /** The --only selection (undefined: everything). */
  only?: Set<string>;
  cacheDir: string;
  busyboxTar: string;
  log(line: string): void;
  /** Loads busybox into berth and podman unless it is there. */
  ensureImages(): Promise<void>;
  /** The berth CLI as its own process with the instance's environment; resolves to stdout. */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<string>;
}

export interface CaseModule {
  name: string;
  /** Runs the case (or several related ones) and returns their results; must leave nothing behind. */
  run(ctx: BenchContext): Promise<CaseResult[]>;
}

export function makeContext(opts: Omit<BenchContext, 'sdk' | 'ensureImages' | 'cli'>): BenchContext {
  const sdk = new Berth({ env: opts.berth.env });
  const [node, bin] = berthCli();
  const ctx: BenchContext = {
    ...opts,
    sdk,
    cli: (args, env) => run(node!, [bin!, ...args], { env: { ...opts.berth.env, ...env } }),
    ensureImages: async () => {
      const have = await sdk.images.get({ reference: BUSYBOX }).then(
        () => true,
        () => false,
      );
      if (!have) await ctx.cli(['load', '-i', opts.busyboxTar]);
      if (opts.podman && !(await podmanHasImage(BUSYBOX))) await run('podman', ['load', '-q', '-i', opts.busyboxTar]);
    },
  };
  return ctx;
}

export async function podmanHasImage(ref: string): Promise<boolean> {
  return run('podman', ['image', 'exists', ref]).then(
    () => true,
    () => false,
  );
}
