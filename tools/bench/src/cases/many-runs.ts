// Many runs: 20 sequential `run --rm true` and 50 at once, through each engine's CLI (network none). Every
// run must succeed; failures are counted and reported, and a round with failures still records its time.
import { runCase, type Subject } from '../harness';
import { run, PODMAN_RUN_FLAGS } from '../exec';
import { BUSYBOX, type CaseModule } from '../context';
import { sdkRunTrue } from './run-rm';

type OneRun = () => Promise<unknown>;

function sequential(n: number, one: OneRun, failures: { count: number }): () => Promise<void> {
  return async () => {
    for (let i = 0; i < n; i++) await one().catch(() => failures.count++);
  };
}

function concurrent(n: number, one: OneRun, failures: { count: number; last?: string }): () => Promise<void> {
  return async () => {
    const res = await Promise.allSettled(Array.from({ length: n }, () => one()));
    for (const r of res) {
      if (r.status === 'rejected') {
        failures.count++;
        failures.last = String((r.reason as Error).message).slice(0, 300);
      }
    }
  };
}

function manyCase(name: string, n: number, mode: 'seq' | 'conc'): CaseModule {
  return {
    name,
    async run(ctx) {
      await ctx.ensureImages();
      const wrap = mode === 'seq' ? sequential : concurrent;
      const failures: Record<string, { count: number; last?: string }> = { berth: { count: 0 }, 'berth-sdk': { count: 0 }, podman: { count: 0 } };
      const subjects: Subject[] = [
        { name: 'berth', run: wrap(n, () => ctx.cli(['run', '--rm', '--network', 'none', BUSYBOX, 'true']), failures.berth!) },
        { name: 'berth-sdk', run: wrap(n, () => sdkRunTrue(ctx.sdk, 'none'), failures['berth-sdk']!) },
      ];
      if (ctx.podman) {
        subjects.push({ name: 'podman', run: wrap(n, () => run('podman', ['run', '--rm', ...PODMAN_RUN_FLAGS, '--network', 'none', BUSYBOX, 'true']), failures.podman!) });
      }
      const runs = mode === 'seq' ? Math.max(3, Math.ceil(ctx.runs / 2)) : Math.max(3, Math.ceil(ctx.runs / 3));
      const r = await runCase(
        { name, description: `${n} ${mode === 'seq' ? 'sequential' : 'concurrent'} run --rm --network none busybox true (total wall time)`, unit: 'ms', subjects, runs, warmup: 1 },
        ctx.log,
      );
      r.notes = { failures, runsPerRound: n };
      return [r];
    },
  };
}

export const seq20 = manyCase('seq-20', 20, 'seq');
export const concurrent50 = manyCase('concurrent-50', 50, 'conc');
