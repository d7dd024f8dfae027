// Stop/kill semantics with and without an init, pause/resume, cgroup limits, OOM, zombie reaping.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { containersV1 } from '@berth/api';
import { wholeDiskOf } from '@berth/testing';
import { makeHarness, logLines, until, type Harness } from './harness';
import { NotPausedError } from '../src/errors';

jest.setTimeout(60_000);

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.teardown();
});

const cg = (ctrl: string, id: string, file: string) => fs.readFileSync(`/sys/fs/cgroup/${ctrl}/berth/${id}/${file}`, 'utf8').trim();

/** Descendants of the container's PID 1 (host PIDs) that are zombies. */
function zombies(pid1: number): number[] {
  const out: number[] = [];
  const walk = (pid: number) => {
    let kids: number[] = [];
    try {
      kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const k of kids) {
      try {
        if (fs.readFileSync(`/proc/${k}/stat`, 'utf8').replace(/^.*\) /, '')[0] === 'Z') out.push(k);
      } catch {
        // gone meanwhile
      }
      walk(k);
    }
  };
  walk(pid1);
  return out;
}

/** Host PIDs of every descendant of a process. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** The shell has set its traps once it printed "ready" (a signal before that would kill it). */
async function trapsSet(logPath: string): Promise<void> {
  await until(() => logLines(logPath).some((l) => l.text === 'ready'), 10_000, 'the shell to set its traps');
}

describe('stop', () => {
  it('a plain sleep as PID 1 ignores SIGTERM: stop waits the grace time, then SIGKILL gives 137', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000']));
    await h.mgr.start(c.id);
    const t0 = Date.now();
    await h.mgr.stop(c.id, 1);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    const st = h.mgr.get(c.id).state!;
    expect(st.status).toBe('exited');
    expect(st.exitCode).toBe(137);
    expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.kill', 'container.kill', 'container.die', 'container.stop']);
    expect(h.sink.events.filter((e) => e.topic === 'container.kill').map((e) => e.attributes.signal)).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('with --init the signal is forwarded: stop exits 143 at once', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true }));
    await h.mgr.start(c.id);
    const t0 = Date.now();
    await h.mgr.stop(c.id, 10);
    // Well under the 10 s grace time: the signal ended it, no SIGKILL was needed.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(h.mgr.get(c.id).state!.exitCode).toBe(143);
    expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.kill', 'container.die', 'container.stop']);
  });

  it('uses the configured stop signal', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'trap "echo got-usr1; exit 3" USR1; echo ready; while true; do sleep 0.05; done'], { stopSignal: 'SIGUSR1' }));
    await h.mgr.start(c.id);
    await trapsSet(c.logPath);
    await h.mgr.stop(c.id, 10);
    expect(h.mgr.get(c.id).state!.exitCode).toBe(3);
    expect(logLines(c.logPath).map((l) => l.text)).toContain('got-usr1');
  });

  it('restart stops and starts it again, with a restart event', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000'], {}, { init: true }));
    await h.mgr.start(c.id);
    const pid1 = h.mgr.get(c.id).state!.pid;
    await h.mgr.restart(c.id, 5);
    const st = h.mgr.get(c.id).state!;
    expect(st.status).toBe('running');
    expect(st.pid).not.toBe(pid1);
    expect(h.sink.topics(c.id).slice(-5)).toEqual(['container.kill', 'container.die', 'container.stop', 'container.start', 'container.restart']);
  });
});

describe('kill, pause, resume', () => {
  it('kill -s by name and number reaches a handler in PID 1', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'trap "echo hup" HUP; trap "exit 7" USR2; echo ready; while true; do sleep 0.05; done']));
    await h.mgr.start(c.id);
    await trapsSet(c.logPath);
    await h.mgr.kill(c.id, 'HUP');
    await until(() => logLines(c.logPath).some((l) => l.text === 'hup'), 5000, 'the HUP handler');
    expect(h.mgr.get(c.id).state!.status).toBe('running');
    await h.mgr.kill(c.id, '12');
    expect(await h.mgr.wait(c.id)).toBe(7);
    expect(h.sink.events.filter((e) => e.topic === 'container.kill').map((e) => e.attributes.signal)).toEqual(['SIGHUP', 'SIGUSR2']);
  });

  it('pause freezes the container, resume thaws it, kill while paused takes effect', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000']));
    await h.mgr.start(c.id);
    await expect(h.mgr.resume(c.id)).rejects.toBeInstanceOf(NotPausedError);
    await h.mgr.pause(c.id);
    expect(h.mgr.get(c.id).state!.status).toBe('paused');
    expect(cg('freezer', c.id, 'freezer.state')).toBe('FROZEN');
    await h.mgr.resume(c.id);
    expect(cg('freezer', c.id, 'freezer.state')).toBe('THAWED');
    await h.mgr.pause(c.id);
    await h.mgr.kill(c.id, 'KILL');
    expect(await h.mgr.wait(c.id)).toBe(137);
    expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.pause', 'container.unpause', 'container.pause', 'container.kill', 'container.die']);
  });
});

describe('cgroups', () => {
  it('sets cpu shares, quota, cpuset, memory, reservation and pids limits', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000'], {}, {
      resources: containersV1.Resources.fromPartial({ cpuShares: 256, nanoCpus: 1_500_000_000, memory: 64 * 1024 * 1024, memorySwap: 0, pidsLimit: 50, cpusetCpus: '0', memoryReservation: 32 * 1024 * 1024 }),
    }));
    await h.mgr.start(c.id);
    expect(cg('cpu', c.id, 'cpu.shares')).toBe('256');
    expect(cg('cpu', c.id, 'cpu.cfs_quota_us')).toBe('150000');
    expect(cg('cpu', c.id, 'cpu.cfs_period_us')).toBe('100000');
    expect(cg('memory', c.id, 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(cg('pids', c.id, 'pids.max')).toBe('50');
    expect(cg('cpuset', c.id, 'cpuset.cpus')).toBe('0');
    expect(cg('memory', c.id, 'memory.soft_limit_in_bytes')).toBe(String(32 * 1024 * 1024));
    await h.mgr.update(c.id, containersV1.Resources.fromPartial({ cpuShares: 512, nanoCpus: 0, memory: 96 * 1024 * 1024, memorySwap: 0, pidsLimit: 0, cpusetCpus: '0-1' }), undefined);
    expect(cg('cpu', c.id, 'cpu.shares')).toBe('512');
    expect(cg('cpuset', c.id, 'cpuset.cpus')).toBe('0-1');
    expect(cg('memory', c.id, 'memory.limit_in_bytes')).toBe(String(96 * 1024 * 1024));
    expect(h.mgr.get(c.id).hostConfig!.resources!.pidsLimit).toBe(50);
    // A limit the runtime refuses changes nothing in the record.
    await expect(h.mgr.update(c.id, containersV1.Resources.fromPartial({ cpuShares: 1, nanoCpus: 0, memory: 0, memorySwap: 0, pidsLimit: 0 }), undefined)).rejects.toThrow(/cpu-shares 1 is below/);
    expect(h.mgr.get(c.id).hostConfig!.resources!.cpuShares).toBe(512);
    await h.mgr.kill(c.id);
    await h.mgr.wait(c.id);
    expect(fs.existsSync(`/sys/fs/cgroup/memory/berth/${c.id}`)).toBe(false);
  });

  it('sets cpu period and quota, swappiness, per-device I/O throttles and a domain name; refuses what the kernel would', async () => {
    const disk = wholeDiskOf('/');
    const c = await h.mgr.create(h.req(['sleep', '1000'], { domainname: 'example.test' }, {
      resources: containersV1.Resources.fromPartial({
        cpuPeriod: 50_000, cpuQuota: 25_000, memorySwappiness: 0,
        deviceReadBps: [{ path: disk.path, rate: 1_048_576 }], deviceWriteIops: [{ path: disk.path, rate: 300 }],
      }),
    }));
    await h.mgr.start(c.id);
    expect(cg('cpu', c.id, 'cpu.cfs_period_us')).toBe('50000');
    expect(cg('cpu', c.id, 'cpu.cfs_quota_us')).toBe('25000');
    expect(cg('memory', c.id, 'memory.swappiness')).toBe('0');
    expect(cg('blkio', c.id, 'blkio.throttle.read_bps_device')).toBe(`${disk.numbers} 1048576`);
    expect(cg('blkio', c.id, 'blkio.throttle.write_iops_device')).toBe(`${disk.numbers} 300`);
    // The domain name is the UTS namespace's: read from inside it.
    expect(execFileSync('nsenter', ['-t', String(h.mgr.get(c.id).state!.pid), '-u', 'cat', '/proc/sys/kernel/domainname'], { encoding: 'utf8' }).trim()).toBe('example.test');
    // update changes the period and quota of the running container.
    await h.mgr.update(c.id, containersV1.Resources.fromPartial({ cpuQuota: 40_000 }), undefined);
    expect(cg('cpu', c.id, 'cpu.cfs_quota_us')).toBe('40000');
    expect(h.mgr.get(c.id).hostConfig!.resources!.deviceReadBps).toEqual([{ path: disk.path, rate: 1_048_576 }]);

    const refused: [Partial<containersV1.Resources>, RegExp][] = [
      [{ nanoCpus: 1e9, cpuQuota: 50_000 }, /--cpus and --cpu-period\/--cpu-quota cannot both be set/],
      [{ cpuPeriod: 500 }, /cpu-period 500 is outside 1000\.\.1000000/],
      [{ cpuQuota: 10 }, /cpu-quota 10 is below the minimum 1000/],
      [{ memorySwappiness: 101 }, /memory-swappiness 101 is outside 0\.\.100/],
      [{ deviceReadBps: [{ path: '/dev/null', rate: 1 }] }, /--device-read-bps \/dev\/null: not a block device/],
      [{ deviceWriteBps: [{ path: '/dev/nosuchdisk', rate: 1 }] }, /--device-write-bps \/dev\/nosuchdisk: no such device/],
    ];
    const before = h.mgr.list(true).length;
    for (const [r, message] of refused) {
      await expect(h.mgr.create(h.req(['true'], {}, { resources: containersV1.Resources.fromPartial(r) }))).rejects.toThrow(message);
    }
    await expect(h.mgr.create(h.req(['true'], { domainname: 'x.test' }, { utsMode: 'host' }))).rejects.toThrow(/domain name and the host's UTS namespace/);
    expect(h.mgr.list(true)).toHaveLength(before);
  });

  it('reports an OOM kill: exit 137, OOMKilled, oom event before die', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'tail /dev/zero'], {}, {
      resources: containersV1.Resources.fromPartial({ cpuShares: 0, nanoCpus: 0, memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024, pidsLimit: 0 }),
    }));
    await h.mgr.start(c.id);
    expect(await h.mgr.wait(c.id)).toBe(137);
    expect(h.mgr.get(c.id).state!.oomKilled).toBe(true);
    expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.oom', 'container.die']);
    expect(h.sink.events.find((e) => e.topic === 'container.die')!.body!.oomKilled).toBe(true);
  });
});

describe('init', () => {
  it('zombies stay without an init and are reaped under --init', async () => {
    const script = '(sleep 0.1 &); exec sleep 1000';
    const plain = await h.mgr.create(h.req(['sh', '-c', script]));
    const init = await h.mgr.create(h.req(['sh', '-c', script], {}, { init: true }));
    await h.mgr.start(plain.id);
    await h.mgr.start(init.id);
    // Both background sleeps have ended once the plain container shows its zombie (same 0.1 s in each);
    // the one under the init is reaped, so it never shows as a zombie nor stays a process.
    await until(() => zombies(h.mgr.get(plain.id).state!.pid).length === 1, 10_000, 'the zombie without an init');
    await until(() => descendants(h.mgr.get(init.id).state!.pid).length === 1, 10_000, 'the init to reap the orphan');
    expect(zombies(h.mgr.get(plain.id).state!.pid)).toHaveLength(1);
    expect(zombies(h.mgr.get(init.id).state!.pid)).toEqual([]);
  });
});
