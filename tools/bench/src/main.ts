// `node tools/bench/dist/main.js [--runs N] [--only a,b] [--big] [--out FILE]`: berth side by side with
// podman (and docker when an engine runs) on this machine, interleaved; prints medians, spreads and
// berth/peer ratios, and writes the results as JSON (bench-results/<time>.json by default).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxImage, debootstrapImageArchive, dockerArchive } from '@berth/testing';
import { startBerth, REPO_ROOT } from './berth-instance';
import { available, dockerEngineRunning } from './exec';
import { formatResult, runCase, type BenchCase, type CaseResult } from './harness';
import { loadCase } from './cases/load';

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
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cacheDir = '/var/tmp/berth-bench-cache';
  fs.mkdirSync(cacheDir, { recursive: true });
  const podman = available('podman');
  const docker = dockerEngineRunning();
  const log = (l: string) => process.stderr.write(l + '\n');
  log(`peers: podman ${podman ? 'yes' : 'no'}, docker engine ${docker ? 'yes' : 'no'}`);

  const busyboxTar = path.join(cacheDir, 'busybox.tar');
  fs.writeFileSync(busyboxTar, await dockerArchive([await busyboxImage('bench/busybox:latest')]));

  const berth = await startBerth();
  const results: CaseResult[] = [];
  const want = (name: string) => !args.only || args.only.has(name);
  try {
    const cases: (BenchCase & { close?(): void })[] = [];
    if (want('load-busybox')) cases.push(loadCase({ name: 'load-busybox', archive: busyboxTar, imageName: 'bench/busybox:latest', berth, podman, docker, runs: args.runs }));
    if (args.big && want('load-debootstrap')) {
      log('making the debootstrap image (cached after the first time)…');
      const archive = debootstrapImageArchive(cacheDir);
      cases.push(loadCase({ name: 'load-debootstrap', archive, imageName: 'debian:bookworm-minbase', berth, podman, docker, runs: Math.min(args.runs, 5) }));
    }
    for (const c of cases) {
      log(`running ${c.name}…`);
      const r = await runCase(c, log);
      c.close?.();
      results.push(r);
      process.stdout.write(formatResult(r) + '\n\n');
    }
  } finally {
    await berth.stop();
    fs.rmSync(berth.root, { recursive: true, force: true });
  }
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
    peers: { podman, docker },
    results,
  };
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, JSON.stringify(report, null, 2));
  process.stdout.write(`results written to ${args.out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: error: ${(err as Error).message}\n`);
  process.exit(1);
});
