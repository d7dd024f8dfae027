// The CLI e2e world: a real nats-server and the four real service processes on a temp state root; the CLI
// runs as its own process (bin/berth) with BERTH_RUN pointing at them, as a person would run it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxImage, dockerArchive, spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle, type ServiceProcess } from '@berth/testing';

export const BIN = path.resolve(__dirname, '..', 'bin', 'berth');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface World {
  root: string;
  runDir: string;
  env: Record<string, string>;
  nats: NatsServerHandle;
  services: ServiceProcess[];
  /** Runs `berth ARGS` to its end (stdin from `input`, or closed). */
  berth(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<CliResult>;
  /** The busybox docker-archive written to a temp file. */
  archive: string;
  teardown(): Promise<void>;
}

export const SERVICES = ['image-store', 'rootfs', 'supervisor', 'inspector'];

export interface WorldOptions {
  /** More environment for every service (e.g. the supervisor's BERTH_BRIDGE_NAME). */
  serviceEnv?: Record<string, string>;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const dirs = tempBerthDirs('berth-cli-');
  const nats = await startNatsServer();
  const services: ServiceProcess[] = [];
  for (const service of SERVICES) {
    const p = spawnService({ service, root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, env: { BERTH_LOG_LEVEL: 'warn', ...opts.serviceEnv } });
    services.push(p);
  }
  await Promise.all(services.map((s) => waitHealthy(s)));
  const archive = path.join(dirs.root, 'busybox.tar');
  fs.writeFileSync(archive, await dockerArchive([await busyboxImage()]));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    BERTH_RUN: dirs.runDir,
    BERTH_ROOT: dirs.root,
    BERTH_NATS_URL: nats.url,
    // The other suites stay off the host's default bridge; network.spec.ts brings its own.
    BERTH_DEFAULT_NETWORK: 'none',
  };
  const berth = (args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}) =>
    new Promise<CliResult>((resolve, reject) => {
      const child = spawn(BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`berth ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, opts.timeoutMs ?? 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      if (opts.input !== undefined) child.stdin.end(opts.input);
      else child.stdin.end();
    });
  return {
    root: dirs.root,
    runDir: dirs.runDir,
    env,
    nats,
    services,
    berth,
    archive,
    teardown: async () => {
      for (const s of services.reverse()) await s.stop();
      await nats.dispose();
      // Overlay mounts of removed containers must be gone before the dirs go.
      const left = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((t) => t.startsWith(dirs.root) || t.startsWith(dirs.runDir));
      for (const t of left.reverse()) spawnSync('umount', ['-l', t]);
      dirs.cleanup();
      if (left.length) throw new Error(`mounts left behind: ${left.join(', ')}`);
    },
  };
}

/** Removes every container through the CLI and checks no container or container snapshot is left. */
export async function cleanContainers(w: World): Promise<void> {
  const { Berth } = require('@berth/client') as typeof import('@berth/client');
  const b = new Berth({ env: w.env });
  try {
    const all = await b.containers.list({ all: true });
    for (const c of all.containers) await b.removeContainer(c.id, true);
    const snaps = await b.snapshots.list({ parent: '' });
    const left = snaps.snapshots.filter((s) => s.labels['berth.container']).map((s) => s.key);
    expect(left).toEqual([]);
    expect((await b.containers.list({ all: true })).containers).toEqual([]);
  } finally {
    b.close();
  }
}

export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
