// Containers created, run and removed in a loop (bridge network): afterwards no leaked mounts, cgroups,
// netns, veths or fds, and no memory growth in the services. 40 containers by default; BERTH_SOAK=1 runs
// the long soak (BERTH_SOAK_COUNT, default 1,000).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { importBusybox, memoryKb, removeAllContainers, SERVICES, startBerth, type BerthUnderTest, type ServiceName } from './harness';

const SOAK = process.env.BERTH_SOAK === '1';
const COUNT = SOAK ? Number(process.env.BERTH_SOAK_COUNT ?? 1000) : 40;
const CONCURRENCY = 4;
jest.setTimeout(SOAK ? 3 * 3600_000 : 180_000);

function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function mountsUnder(root: string): number {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root)).length;
}

function cgroupsOf(ids: string[]): string[] {
  const out: string[] = [];
  for (const ctl of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = `/sys/fs/cgroup/${ctl}/berth`;
    if (!fs.existsSync(dir)) continue;
    const here = new Set(fs.readdirSync(dir));
    for (const id of ids) if (here.has(id)) out.push(`${ctl}/berth/${id}`);
  }
  return out;
}

function netnsOf(ids: string[]): string[] {
  const names = fs.existsSync('/run/netns') ? new Set(fs.readdirSync('/run/netns')) : new Set<string>();
  return ids.map((id) => `berth-${id.slice(0, 12)}`).filter((n) => names.has(n));
}

function bridgeExists(bridge: string): boolean {
  return fs.existsSync(`/sys/class/net/${bridge}/bridge`);
}

function vethsOn(bridge: string): number {
  try {
    return execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).split('\n').filter((l) => l.trim()).length;
  } catch {
    return 0; // no bridge: no veth either
  }
}

describe(`soak: ${COUNT} containers`, () => {
  let b: BerthUnderTest;

  beforeAll(async () => {
    b = await startBerth();
    await importBusybox(b.berth);
  });

  afterAll(async () => {
    if (b) {
      await removeAllContainers(b.berth).catch(() => undefined);
      await b.stop();
    }
  });

  it('leaks no mounts, cgroups, netns, veths or fds, and the services do not grow', async () => {
    const ids: string[] = [];
    const once = async () => {
      let out = '';
      const r = await b.berth.run({ image: 'busybox', overrides: { cmd: ['sh', '-c', 'echo ok'] }, remove: true, attach: {} }, { stdout: (x) => (out += Buffer.from(x).toString()), stderr: () => undefined });
      ids.push(r.container.id);
      const end = await r.done!;
      if (end.exitCode !== 0 || !out.includes('ok')) throw new Error(`container ${r.container.id} exited ${end.exitCode}: ${out}`);
    };
    const batch = async (n: number) => {
      let left = n;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) await once();
      }));
    };

    // Warm up first (JIT, caches, the bridge), then take the baseline.
    await batch(8);
    const pids = await b.pids();
    const base = {
      mounts: mountsUnder(b.root),
      fds: Object.fromEntries(SERVICES.map((s) => [s, fdCount(pids[s])])) as Record<ServiceName, number>,
      rss: Object.fromEntries(SERVICES.map((s) => [s, memoryKb(pids[s]).rss])) as Record<ServiceName, number>,
    };
    const t0 = Date.now();
    await batch(COUNT);
    const secs = (Date.now() - t0) / 1000;
    // The supervisor removes --rm containers once they exited; give the last ones a moment.
    await new Promise((r) => setTimeout(r, 1500));
    await b.berth.pruneOrphanSnapshots();

    const end = {
      containers: (await b.berth.containers.list({ all: true })).containers.length,
      snapshots: (await b.berth.snapshots.list({ parent: '' })).snapshots.filter((s) => s.labels['berth.container']).length,
      mounts: mountsUnder(b.root),
      cgroups: cgroupsOf(ids),
      netns: netnsOf(ids),
      veths: vethsOn(b.bridge),
      fds: Object.fromEntries(SERVICES.map((s) => [s, fdCount(pids[s])])) as Record<ServiceName, number>,
      rss: Object.fromEntries(SERVICES.map((s) => [s, memoryKb(pids[s]).rss])) as Record<ServiceName, number>,
    };
    console.log(
      `soak: ${COUNT} containers in ${secs.toFixed(1)} s (${(COUNT / secs).toFixed(1)}/s, ${CONCURRENCY} at a time)\n` +
        `  left: ${end.containers} containers, ${end.snapshots} container snapshots, mounts ${base.mounts} → ${end.mounts}, cgroups ${end.cgroups.length}, netns ${end.netns.length}, veths ${end.veths}\n` +
        SERVICES.map((s) => `  ${s.padEnd(12)} fds ${base.fds[s]} → ${end.fds[s]}, RSS ${(base.rss[s] / 1024).toFixed(1)} → ${(end.rss[s] / 1024).toFixed(1)} MiB`).join('\n'),
    );
    expect(ids.length).toBe(COUNT + 8);
    expect(end.containers).toBe(0);
    expect(end.snapshots).toBe(0);
    expect(end.mounts).toBe(base.mounts);
    expect(end.cgroups).toEqual([]);
    expect(end.netns).toEqual([]);
    // The containers were on our private bridge (it exists), and left no veth on it.
    expect(bridgeExists(b.bridge)).toBe(true);
    expect(end.veths).toBe(0);
    for (const s of SERVICES) {
      // A few fds come and go (NATS, sockets, log files); a leak grows with the count.
      expect(end.fds[s] - base.fds[s]).toBeLessThan(10);
      // Garbage collection makes RSS noisy; a leak of even 20 kB per container would show over 1,000.
      expect(end.rss[s] - base.rss[s]).toBeLessThan(SOAK ? 40 * 1024 : 60 * 1024);
    }
  });
});
