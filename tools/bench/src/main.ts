// `node tools/bench/dist/main.js [--runs N] [--only a,b] [--big] [--out FILE]`: berth side by side with
// podman (and docker when an engine runs) on this machine, interleaved; prints medians, spreads and
// berth/peer ratios, and writes the results as JSON (bench-results/<time>.json by default).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxImage, busyboxLayerEntries, debootstrapImageArchive, dockerArchive } from '@berth/testing';
import { startBerth, REPO_ROOT } from './berth-instance';
import { removeBridge } from './host-cleanup';
import { available, dockerEngineRunning, run } from './exec';
import { summarise } from './stats';
import { formatResult, runCase, type CaseResult } from './harness';
import { BUSYBOX, makeContext, podmanHasImage, type BenchContext, type CaseModule } from './context';
import { loadCase } from './cases/load';
import { cliStartup, runRmBridgeCli, runRmBridgeSdk, runRmNoneCli, runRmNoneSdk } from './cases/run-rm';
import { concurrent50, seq20 } from './cases/many-runs';
import { prepare } from './cases/prepare';
import { hundred, serviceRss } from './cases/hundred';
import { eventLatency } from './cases/event-latency';

/** The bench instance's own default bridge, removed at the end (never the host's berth0 or 10.88/16). */
const BRIDGE = { BERTH_BRIDGE_NAME: 'bb-bench0', BERTH_BRIDGE_SUBNET: '10.213.250.0/24' };

interface Args {
  runs: number;
  only?: Set<string>;
  big: boolean;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 10, big: false, out: path.join(REPO_ROOT, 'bench-results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--only') args.only = new Set(argv[++i]!.split(','));
    else if (a === '--big') args.big = true;
    else if (a === '--out') args.out = argv[++i]!;
    else throw new Error(`unknown argument ${a} (known: --runs N, --only a,b, --big, --out FILE)`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs needs a positive integer');
  const unknown = [...(args.only ?? [])].filter((n) => !CASE_NAMES.includes(n));
  if (unknown.length) throw new Error(`unknown case ${unknown.join(', ')} (known: ${CASE_NAMES.join(', ')})`);
  return args;
}

function loadModule(name: string, archive: () => string, imageName: string, runs: (ctx: BenchContext) => number): CaseModule {
  return {
    name,
    async run(ctx) {
      // The load cases remove the image after every round; the other cases load it again when they need it.
      const c = loadCase({ name, archive: archive(), imageName, berth: ctx.berth, podman: ctx.podman, docker: ctx.docker, runs: runs(ctx) });
      try {
        const r = await runCase(c, ctx.log);
        r.notes = { berthPhaseMedianMs: { import: summarise(c.phases.importMs).median, unpack: summarise(c.phases.unpackMs).median } };
        return [r];
      } finally {
        c.close();
      }
    },
  };
}

const CACHE_DIR = '/var/tmp/berth-bench-cache';
const BUSYBOX_TAR = path.join(CACHE_DIR, 'busybox.tar');

/** In running order; `hundred` answers to ps-100, inspect-100 and memory. */
const MODULES: { names: string[]; big?: boolean; module: CaseModule }[] = [
  { names: ['cli-startup'], module: cliStartup },
  { names: ['load-busybox'], module: loadModule('load-busybox', () => BUSYBOX_TAR, BUSYBOX, (c) => c.runs) },
  { names: ['load-debootstrap'], big: true, module: loadModule('load-debootstrap', () => debootstrapImageArchive(CACHE_DIR), 'debian:bookworm-minbase', (c) => Math.min(c.runs, 5)) },
  { names: ['prepare'], module: prepare },
  { names: ['run-rm-none-cli'], module: runRmNoneCli },
  { names: ['run-rm-bridge-cli'], module: runRmBridgeCli },
  { names: ['run-rm-none-sdk'], module: runRmNoneSdk },
  { names: ['run-rm-bridge-sdk'], module: runRmBridgeSdk },
  { names: ['seq-20'], module: seq20 },
  { names: ['concurrent-50'], module: concurrent50 },
  { names: ['event-latency'], module: eventLatency },
  { names: ['ps-100', 'inspect-100', 'memory'], module: hundred },
];
const CASE_NAMES = MODULES.flatMap((m) => m.names);

/**
 * bin/berth quietly falls back to dist/main.js (about 50 ms more per CLI process here) when tsc rebuilt the
 * CLI or a library it bundles after the V8 snapshot was made: the CLI cases would measure that fallback.
 * The snapshot is made again first when it is older than any of those builds.
 */
async function freshCliSnapshot(log: (l: string) => void): Promise<void> {
  const blob = path.join(REPO_ROOT, 'apps/cli/dist/berth.blob');
  const builds = ['apps/cli', 'libs/client', 'libs/api', 'libs/oci'].map((d) => path.join(REPO_ROOT, d, 'dist/tsconfig.lib.tsbuildinfo'));
  const made = fs.existsSync(blob) ? fs.statSync(blob).mtimeMs : 0;
  if (builds.every((b) => !fs.existsSync(b) || fs.statSync(b).mtimeMs <= made)) return;
  log('the CLI snapshot is older than its build: making it again (nx run cli:build)');
  await run('npx', ['nx', 'run', 'cli:build', '--output-style=static'], { env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' } });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const podman = available('podman');
  const docker = dockerEngineRunning();
  const log = (l: string) => process.stderr.write(l + '\n');
  log(`peers: podman ${podman ? 'yes' : 'no'}, docker engine ${docker ? 'yes' : 'no'}`);
  await freshCliSnapshot(log);
  // A layer of its own (busybox + a marker file): podman reuses layers it already has, and another user's plain
  // busybox image would turn its load into a no-op.
  const layer = [...busyboxLayerEntries(), { type: 'file' as const, path: 'etc/berth-bench', content: 'berth bench image\n' }];
  fs.writeFileSync(BUSYBOX_TAR, await dockerArchive([await busyboxImage(BUSYBOX, 'none', { layers: [layer] })]));
  // Only remove from podman what this run put there.
  const podmanHadBusybox = podman && (await podmanHasImage(BUSYBOX));
  const loadAvgBefore = os.loadavg();

  const berth = await startBerth({ env: BRIDGE });
  const ctx = makeContext({ berth, rssAtStart: serviceRss(berth.launcherPid), podman, docker, runs: args.runs, big: args.big, only: args.only, cacheDir: CACHE_DIR, busyboxTar: BUSYBOX_TAR, log });
  const results: CaseResult[] = [];
  const failed: Record<string, string> = {};
  try {
    for (const m of MODULES) {
      if (m.big && !args.big) continue;
      if (args.only && !m.names.some((n) => args.only!.has(n))) continue;
      log(`running ${m.names.join(', ')}…`);
      try {
        for (const r of await m.module.run(ctx)) {
          results.push(r);
          process.stdout.write(formatResult(r) + '\n\n');
        }
      } catch (err) {
        failed[m.names.join(',')] = (err as Error).message;
        log(`  ${m.names.join(', ')} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    ctx.sdk.close();
    await berth.stop();
    fs.rmSync(berth.root, { recursive: true, force: true });
    await removeBridge(BRIDGE.BERTH_BRIDGE_NAME);
    if (podman && !podmanHadBusybox) await run('podman', ['rmi', '-f', BUSYBOX]).catch(() => undefined);
  }
  const report = {
    date: new Date().toISOString(),
    machine: {
      hostname: os.hostname(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      node: process.version,
      loadAvgBefore: loadAvgBefore.map((v) => Math.round(v * 100) / 100),
      loadAvgAfter: os.loadavg().map((v) => Math.round(v * 100) / 100),
    },
    args: { runs: args.runs, big: args.big, only: args.only ? [...args.only] : undefined },
    peers: { podman, docker },
    results,
    failed,
  };
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, JSON.stringify(report, null, 2));
  process.stdout.write(`results written to ${args.out}\n`);
  if (Object.keys(failed).length) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench: error: ${(err as Error).message}\n`);
  process.exit(1);
});
