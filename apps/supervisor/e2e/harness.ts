// Shared set-up for the supervisor e2e tests: a temp state root, the busybox rootfs, a ContainerManager with
// the local (none/host) network provider, and checks that nothing is left behind.
import * as fs from 'node:fs';
import { containersV1 } from '@berth/api';
import { busyboxRootfsFixture, tempBerthDirs, type RootfsFixture } from '@berth/testing';
import { ContainerManager, type ContainerManagerOptions, type CreateRequest } from '../src/container-manager';
import type { ContainerEventBody, EventSink } from '../src/container-events';
import { LocalNetworkProvider } from '../src/local-network';

export interface RecordedEvent {
  topic: string;
  subjectId: string;
  attributes: Record<string, string>;
  body: ContainerEventBody | undefined;
  /** When the sink got it (ms). */
  at: number;
}

export class MemorySink implements EventSink {
  readonly events: RecordedEvent[] = [];
  publish(ev: Parameters<EventSink['publish']>[0]): void {
    this.events.push({ topic: ev.topic, subjectId: ev.subjectId, attributes: ev.attributes ?? {}, body: ev.body?.value, at: Date.now() });
  }
  topics(id: string): string[] {
    return this.events.filter((e) => e.subjectId === id).map((e) => e.topic);
  }
}

export function config(args: string[], extra: Partial<containersV1.ContainerConfig> = {}): containersV1.ContainerConfig {
  return { ...containersV1.ContainerConfig.fromPartial({ image: 'busybox:latest', cmd: args }), ...extra };
}

export function hostConfig(extra: Partial<containersV1.HostConfig> = {}): containersV1.HostConfig {
  return { ...containersV1.HostConfig.fromPartial({ networkMode: 'none' }), ...extra };
}

export interface Harness {
  root: string;
  runDir: string;
  rootfs: RootfsFixture;
  sink: MemorySink;
  mgr: ContainerManager;
  /** A create request on a fresh writable layer. */
  req(args: string[], cfg?: Partial<containersV1.ContainerConfig>, hc?: Partial<containersV1.HostConfig>, name?: string): CreateRequest;
  open(): Promise<ContainerManager>;
  /** Removes every container, checks nothing is left (mounts, cgroups, netns), removes the dirs. */
  teardown(): Promise<void>;
}

export async function makeHarness(extra: Partial<ContainerManagerOptions> = {}): Promise<Harness> {
  const dirs = tempBerthDirs('berth-sup-');
  const rootfs = await busyboxRootfsFixture();
  const sink = new MemorySink();
  const stateDir = `${dirs.root}/supervisor`;
  const open = () => ContainerManager.open({ stateDir, runDir: dirs.runDir, network: new LocalNetworkProvider(), events: sink, pollIntervalMs: 500, ...extra });
  const h: Harness = {
    root: dirs.root,
    runDir: dirs.runDir,
    rootfs,
    sink,
    mgr: await open(),
    req: (args, cfg = {}, hc = {}, name) => ({ name, config: config(args, cfg), hostConfig: hostConfig(hc), rootfs: rootfs.newRootfs() }),
    open,
    teardown: async () => {
      for (const c of h.mgr.list(true)) await h.mgr.remove(c.id, true);
      await h.mgr.close();
      // Every container the test made, including those it removed itself.
      const ids = [...new Set(sink.events.filter((e) => e.topic === 'container.create').map((e) => e.subjectId))];
      const left = leftovers(dirs.runDir, ids);
      rootfs.cleanup();
      dirs.cleanup();
      expect(left).toEqual([]);
    },
  };
  return h;
}

/** Live (non-zombie) processes whose command line names one of the ids: conmons and runtimes. */
function processesOf(ids: string[]): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!ids.some((id) => cmd.includes(id))) continue;
      const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      if (state !== 'Z') out.push(`process ${pid} ${cmd.split('\0')[0]}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Mounts under the run dir, cgroups, netns and processes of the given containers that still exist. */
export function leftovers(runDir: string, ids: string[]): string[] {
  const out: string[] = ids.length ? processesOf(ids) : [];
  for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const t = l.split(' ')[4];
    if (t && t.startsWith(runDir)) out.push(`mount ${t}`);
  }
  for (const id of ids) {
    for (const c of ['memory', 'cpu', 'pids', 'freezer', 'unified']) {
      if (fs.existsSync(`/sys/fs/cgroup/${c}/berth/${id}`)) out.push(`cgroup ${c}/berth/${id}`);
    }
    if (fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)) out.push(`netns ${id}`);
  }
  return out;
}

/** The log lines of a container (k8s-file), stream and text only. */
export function logLines(path: string): { stream: string; text: string }[] {
  if (!fs.existsSync(path)) return [];
  return fs
    .readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, stream, , ...rest] = l.split(' ');
      return { stream: stream!, text: rest.join(' ') };
    });
}

export async function until<T>(fn: () => T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
