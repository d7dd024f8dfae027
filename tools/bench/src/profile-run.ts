// `node tools/bench/dist/profile-run.js [none|bridge] [runs]`: where a warm SDK `run --rm true` spends its time
// on the supervisor's side. strace (-f, execve and exits only) follows the supervisor of a private berth while
// this process runs the workflow; prints each run's processes as a timeline (ms from the SDK call). strace
// slows exec a little; use it to see the shape, the bench cases for the figures.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startBerth } from './berth-instance';
import { makeContext } from './context';
import { sdkRunTrue } from './cases/run-rm';
import { removeBridge } from './host-cleanup';

const BRIDGE = { BERTH_BRIDGE_NAME: 'bb-prof0', BERTH_BRIDGE_SUBNET: '10.213.251.0/24' };

/** Lines of `strace -ttt -f` between two times, as "ms pid what", without failed PATH lookups. */
export function timeline(trace: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (const line of trace.split('\n')) {
    const m = /^(\d+)\s+(\d+\.\d+) (.*)$/.exec(line);
    if (!m) continue;
    const t = Number(m[2]);
    const what = m[3]!;
    if (t < from || t > to || / = -1 ENOENT/.test(what) || what.startsWith('---')) continue;
    const exe = /^execve\("([^"]+)", \[(.*?)\]/.exec(what);
    const shown = exe ? `exec ${exe[2]!.replace(/"/g, '').split(', ').slice(0, 4).join(' ')}` : what;
    out.push(`${((t - from) * 1000).toFixed(1).padStart(7)} ${m[1]!.padStart(7)} ${shown.slice(0, 110)}`);
  }
  return out;
}

async function main(): Promise<void> {
  const network = process.argv[2] ?? 'none';
  const runs = Number(process.argv[3] ?? 3);
  const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-')), 'strace.txt');
  const berth = await startBerth({ env: BRIDGE });
  const log = (l: string) => process.stderr.write(l + '\n');
  const ctx = makeContext({ berth, rssAtStart: {}, podman: false, docker: false, runs: 1, big: false, cacheDir: '/var/tmp/berth-bench-cache', busyboxTar: '/var/tmp/berth-bench-cache/busybox.tar', log });
  try {
    await ctx.ensureImages();
    for (let i = 0; i < 5; i++) await sdkRunTrue(ctx.sdk, network);
    const sup = spawnSync('pgrep', ['-P', String(berth.launcherPid), '-f', 'supervisor/dist']).stdout.toString().trim();
    if (!/^\d+$/.test(sup)) throw new Error(`supervisor pid not found (got "${sup}")`);
    const strace = spawn('strace', ['-f', '-ttt', '-e', 'trace=execve', '-o', traceFile, '-p', sup], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));
    const spans: [number, number][] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = Date.now() / 1000;
      await sdkRunTrue(ctx.sdk, network);
      spans.push([t0, Date.now() / 1000]);
    }
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));
    const trace = fs.readFileSync(traceFile, 'utf8');
    for (const [i, [from, to]] of spans.entries()) {
      process.stdout.write(`run ${i + 1} (${network}): ${((to - from) * 1000).toFixed(1)} ms\n${timeline(trace, from, to).join('\n')}\n\n`);
    }
  } finally {
    ctx.sdk.close();
    await berth.stop();
    fs.rmSync(berth.root, { recursive: true, force: true });
    fs.rmSync(path.dirname(traceFile), { recursive: true, force: true });
    await removeBridge(BRIDGE.BERTH_BRIDGE_NAME);
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`profile-run: error: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
