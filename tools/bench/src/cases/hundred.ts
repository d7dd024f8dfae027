// With 100 running `sleep` containers (network none) in berth and 100 in podman: ps and inspect latency
// (CLI against CLI, and the inspector's RPCs from the SDK), and memory: RSS per running container (the
// processes whose command line names the container: conmon, and anything else of ours) and of each berth
// service at rest and with the 100.
import * as fs from 'node:fs';
import { runCase, type CaseResult, type Subject } from '../harness';
import { run, PODMAN_RUN_FLAGS } from '../exec';
import { summarise } from '../stats';
import { BUSYBOX, type BenchContext, type CaseModule } from '../context';

const N = 100;
const NAME = (i: number) => `bench-sleep-${i}`;

/** Runs fn over items with at most `width` at once. */
async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(d), ppid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** RSS (MiB) of each process the launcher started (NATS and the four services), by a short name. */
export function serviceRss(launcherPid: number): Record<string, number> {
  const out: Record<string, number> = { launcher: rssKiB(launcherPid) / 1024 };
  for (const p of processes().filter((q) => q.ppid === launcherPid)) {
    const m = /apps\/([a-z-]+)\/dist/.exec(p.cmdline);
    const name = m ? m[1]! : p.cmdline.includes('nats-server') ? 'nats-server' : p.cmdline.split(' ')[0]!;
    out[name] = (out[name] ?? 0) + rssKiB(p.pid) / 1024;
  }
  return out;
}

/** Per container: summed RSS (MiB) of the processes whose command line holds its id (conmon and the like). */
function perContainerRss(ids: string[]): { median: number; processes: string[] } {
  const procs = processes();
  const sums: number[] = [];
  const kinds = new Set<string>();
  for (const id of ids) {
    const mine = procs.filter((p) => p.cmdline.includes(id));
    for (const p of mine) kinds.add(p.cmdline.split(' ')[0]!.split('/').pop()!);
    sums.push(mine.reduce((a, p) => a + rssKiB(p.pid), 0) / 1024);
  }
  return { median: summarise(sums).median, processes: [...kinds] };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

export const hundred: CaseModule = {
  name: 'hundred',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const want = (n: string) => !ctx.only || ctx.only.has(n) || ctx.only.has('hundred');
    await ctx.ensureImages();
    const results: CaseResult[] = [];
    const atRest = serviceRss(ctx.berth.launcherPid);
    const berthIds: string[] = [];
    const podmanIds: string[] = [];
    try {
      ctx.log(`  starting ${N} sleep containers in berth${ctx.podman ? ' and podman' : ''}…`);
      const idx = Array.from({ length: N }, (_, i) => i);
      await pool(idx, 4, async (i) => {
        const r = await ctx.sdk.run({ image: BUSYBOX, name: NAME(i), overrides: { cmd: ['sleep', '100000'] }, hostConfig: { networkMode: 'none' }, detach: true });
        berthIds.push(r.container.id);
      });
      if (ctx.podman) {
        await pool(idx, 4, async (i) => {
          podmanIds.push((await run('podman', ['run', '-d', ...PODMAN_RUN_FLAGS, '--network', 'none', '--name', NAME(i), BUSYBOX, 'sleep', '100000'])).trim());
        });
      }
      const runs = ctx.runs * 2;
      if (want('ps-100')) {
        const subjects: Subject[] = [
          { name: 'berth', run: async () => void (await ctx.cli(['ps'])) },
          { name: 'berth-sdk', run: async () => void (await ctx.sdk.inspector.list({ all: false, last: 0, filters: [], size: false })) },
        ];
        if (ctx.podman) subjects.push({ name: 'podman', run: async () => void (await run('podman', ['ps'])) });
        results.push(await runCase({ name: 'ps-100', description: `ps with ${N} running containers (CLI; SDK = Inspector.List)`, unit: 'ms', subjects, runs, warmup: 2 }, ctx.log));
      }
      if (want('inspect-100')) {
        const target = NAME(N / 2);
        const subjects: Subject[] = [
          { name: 'berth', run: async () => void (await ctx.cli(['inspect', target])) },
          { name: 'berth-sdk', run: async () => void (await ctx.sdk.inspector.inspect({ id: target, size: false })) },
        ];
        if (ctx.podman) subjects.push({ name: 'podman', run: async () => void (await run('podman', ['inspect', target])) });
        results.push(await runCase({ name: 'inspect-100', description: `inspect one of ${N} running containers by name (CLI; SDK = Inspector.Inspect)`, unit: 'ms', subjects, runs, warmup: 2 }, ctx.log));
      }
      if (want('memory')) {
        const withHundred = serviceRss(ctx.berth.launcherPid);
        const b = perContainerRss(berthIds);
        const p = ctx.podman ? perContainerRss(podmanIds) : undefined;
        const one = (median: number) => ({ n: 1, median, p10: median, p90: median, min: median, max: median, spread: 0 });
        const res: CaseResult = {
          name: 'memory',
          description: `RSS in MiB per running container (processes naming it: ${b.processes.join(', ')}${p ? `; podman: ${p.processes.join(', ')}` : ''}), median over ${N}`,
          unit: 'MiB',
          results: { berth: one(b.median), ...(p ? { podman: one(p.median) } : {}) },
          ratios: p ? { 'berth/podman': b.median / p.median } : {},
          notes: {
            serviceRssMiBFresh: Object.fromEntries(Object.entries(ctx.rssAtStart).map(([k, v]) => [k, round(v)])),
            serviceRssMiBAtRest: Object.fromEntries(Object.entries(atRest).map(([k, v]) => [k, round(v)])),
            serviceRssMiBWith100: Object.fromEntries(Object.entries(withHundred).map(([k, v]) => [k, round(v)])),
          },
        };
        results.push(res);
      }
    } finally {
      ctx.log(`  removing the ${N} containers…`);
      await pool(berthIds, 4, (id) => ctx.sdk.removeContainer(id, true).catch((e: Error) => ctx.log(`  berth rm ${id}: ${e.message}`)));
      if (podmanIds.length) await run('podman', ['rm', '-f', '-t', '0', ...podmanIds]).catch((e: Error) => ctx.log(`  podman rm: ${e.message}`));
    }
    return results;
  },
};
