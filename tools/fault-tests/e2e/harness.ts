// A whole berth for fault tests: our own nats-server (so a test can stop and start it), the launcher with
// its four services on a temp root and a private bridge, an SDK client and an event bus on the same NATS.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Berth, UnavailableError } from '@berth/client';
import { EventBus } from '@berth/events';
import { busyboxImage, dockerArchive, ociArchive, REPO_ROOT, startNatsServer, tempBerthDirs, type BuiltImage, type NatsServerHandle } from '@berth/testing';
import { removeNetworkLeftovers } from '../../../apps/supervisor/src/network/host-cleanup';

export const SERVICES = ['image-store', 'rootfs', 'supervisor', 'inspector'] as const;
export type ServiceName = (typeof SERVICES)[number];
const LAUNCHER = path.join(REPO_ROOT, 'apps', 'launcher', 'dist', 'main.js');

export interface BerthUnderTest {
  root: string;
  runDir: string;
  nats: NatsServerHandle;
  launcher: ChildProcess;
  berth: Berth;
  bus: EventBus;
  bridge: string;
  output(): string;
  /** The current PID of each service, from the latest service.start event (and alive). */
  pids(): Promise<Record<ServiceName, number>>;
  stop(): Promise<void>;
}

export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function isService(pid: number, name: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`/apps/${name}/dist/main.js`);
  } catch {
    return false;
  }
}

/** Peak resident set (VmHWM) and current (VmRSS) of a process, in kB. */
export function memoryKb(pid: number): { hwm: number; rss: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { hwm: get('VmHWM'), rss: get('VmRSS') };
}

/** Retries an operation while it fails with UNAVAILABLE (a service restarting); other errors propagate. */
export async function retryUnavailable<T>(fn: () => Promise<T>, log: string[], what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof UnavailableError) || Date.now() > deadline) throw err;
      log.push(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let bridgeSeq = 0;

export async function startBerth(opts: { root?: string; env?: Record<string, string> } = {}): Promise<BerthUnderTest> {
  const dirs = tempBerthDirs('berth-fault-');
  const root = opts.root ?? dirs.root;
  const nats = await startNatsServer();
  // A bridge and subnet of our own (never the default berth0), removed at stop.
  const n = (process.pid + bridgeSeq++) % 200;
  const bridge = `bft${n}`;
  const env = {
    ...process.env,
    BERTH_ROOT: root,
    BERTH_RUN: dirs.runDir,
    BERTH_NATS_URL: nats.url,
    BERTH_BRIDGE_NAME: bridge,
    BERTH_BRIDGE_SUBNET: `10.213.${n}.0/24`,
    BERTH_LOG_JSON: '1',
    ...opts.env,
  };
  const launcher = spawn(process.execPath, [LAUNCHER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-400_000));
  launcher.stdout!.on('data', keep);
  launcher.stderr!.on('data', keep);
  await until(() => {
    if (launcher.exitCode !== null) throw new Error(`launcher exited ${launcher.exitCode}:\n${out}`);
    return out.includes('berth is ready');
  }, 60_000, `"berth is ready" from the launcher:\n${out}`);
  const berth = new Berth({ env: { BERTH_RUN: dirs.runDir } });
  const bus = await EventBus.connect({ url: nats.url, source: 'fault-tests', node: 'test' });

  const pids = async (): Promise<Record<ServiceName, number>> =>
    until(async () => {
      const latest: Partial<Record<ServiceName, number>> = {};
      for await (const ev of bus.replay({ filter: 'service.start', since: new Date(0), until: new Date() })) {
        const body = ev.envelope.body;
        if (body?.$case === 'service') latest[body.value.service as ServiceName] = body.value.pid;
      }
      return SERVICES.every((s) => latest[s] && isService(latest[s]!, s)) ? (latest as Record<ServiceName, number>) : undefined;
    }, 30_000, 'service.start events for all four live services');

  const stop = async () => {
    berth.close();
    await bus.close().catch(() => undefined);
    if (launcher.exitCode === null && launcher.signalCode === null) {
      const exited = new Promise((r) => launcher.once('exit', r));
      launcher.kill('SIGTERM');
      const t = setTimeout(() => launcher.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    await nats.dispose();
    // The bridge (if a bridge container ran) and the rules berth made for it.
    await removeNetworkLeftovers(bridge);
    if (opts.root) fs.rmSync(dirs.root, { recursive: true, force: true });
    dirs.cleanup();
  };
  return { root, runDir: dirs.runDir, nats, launcher, berth, bus, bridge, output: () => out, pids, stop };
}

export async function* chunks(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

/** Imports built images as a docker-archive (uncompressed layers), or an OCI archive (blobs as built). */
export async function importImages(berth: Berth, images: BuiltImage[], format: 'docker' | 'oci' = 'docker'): Promise<void> {
  await berth.importImage(chunks(format === 'oci' ? await ociArchive(images) : await dockerArchive(images)));
}

export async function importBusybox(berth: Berth, name = 'busybox:latest'): Promise<BuiltImage> {
  const img = await busyboxImage(name);
  await importImages(berth, [img]);
  return img;
}

/** Kills every container left (force delete) and its snapshot; for afterAll. */
export async function removeAllContainers(berth: Berth): Promise<void> {
  const { containers } = await berth.containers.list({ all: true });
  for (const c of containers) await berth.removeContainer(c.id, true).catch(() => undefined);
}

/** Every committed blob of the image-store hashes to its name. */
export function checkBlobs(root: string): { count: number; bad: string[] } {
  const dir = path.join(root, 'image-store', 'blobs', 'sha256');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const bad = names.filter((n) => createHash('sha256').update(fs.readFileSync(path.join(dir, n))).digest('hex') !== n);
  return { count: names.length, bad };
}
