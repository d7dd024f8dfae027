// docker's --cap-add/--cap-drop, --privileged, --ulimit, --sysctl, --shm-size, --dns* and --add-host, seen
// from inside real containers (crun under conmon, busybox).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { containersV1 } from '@berth/api';
import { InvalidConfigError } from '../src/errors';
import { NamespaceTargetNotRunningError } from '../src/oci/namespaces';
import { logLines, makeHarness, until, type Harness } from './harness';

jest.setTimeout(60_000);

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.teardown();
});

/** Runs a shell script to its end; returns its stdout lines. */
async function output(script: string, hc: Partial<containersV1.HostConfig> = {}): Promise<string[]> {
  const c = await h.mgr.create(h.req(['sh', '-c', script], {}, hc));
  await h.mgr.start(c.id);
  const code = await h.mgr.wait(c.id);
  const lines = logLines(c.logPath);
  expect({ code, stderr: lines.filter((l) => l.stream === 'stderr') }).toEqual({ code: 0, stderr: [] });
  return lines.map((l) => l.text);
}

/** The capability bits of a /proc/<pid>/status CapEff line. */
function capBits(line: string): bigint {
  return BigInt(`0x${line.split(/\s+/)[1]}`);
}

describe('capabilities', () => {
  it('drop ALL then add CHOWN leaves PID 1 with that one capability', async () => {
    const [eff, bnd] = await output('grep CapEff /proc/self/status; grep CapBnd /proc/self/status', { capDrop: ['ALL'], capAdd: ['CHOWN'] });
    expect(capBits(eff!)).toBe(1n); // CAP_CHOWN is bit 0
    expect(capBits(bnd!)).toBe(1n);
  });

  it('cap-add NET_ADMIN lets the container change its own interface; without it the kernel refuses', async () => {
    expect(await output('ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu', { capAdd: ['NET_ADMIN'] })).toEqual(['1400']);
    const c = await h.mgr.create(h.req(['ip', 'link', 'set', 'lo', 'mtu', '1400']));
    await h.mgr.start(c.id);
    expect(await h.mgr.wait(c.id)).not.toBe(0);
    expect(logLines(c.logPath).map((l) => l.text).join('\n')).toMatch(/not permitted/i);
  });
});

describe('--privileged', () => {
  it('may mount, sees the host\'s devices and nothing masked', async () => {
    const script = 'mkdir -p /tmp/m && mount -t tmpfs t /tmp/m 2>/dev/null && echo mounted && umount /tmp/m; test -c /dev/kmsg && echo kmsg; ls /sys/firmware | wc -l';
    // Without the flag: the mount is refused, /dev/kmsg is absent and /sys/firmware is masked (empty).
    expect(await output(script)).toEqual(['0']);
    const priv = await output(script, { privileged: true });
    expect(priv.slice(0, 2)).toEqual(['mounted', 'kmsg']);
    expect(Number(priv[2])).toBe(fs.readdirSync('/sys/firmware').length);
  });
});

describe('ulimits, sysctls, /dev/shm', () => {
  it('sets the soft and hard limits asked, unlimited included', async () => {
    const lines = await output('ulimit -Sn; ulimit -Hn; ulimit -Hc; ulimit -Sc', { ulimits: [{ name: 'nofile', soft: 512, hard: 1024 }, { name: 'core', soft: -1, hard: -1 }] });
    expect(lines).toEqual(['512', '1024', 'unlimited', 'unlimited']);
  });

  it('sets namespaced sysctls in the container only', async () => {
    const hostShmmni = fs.readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim();
    const lines = await output('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', { sysctls: { 'net.ipv4.ip_forward': '1', 'kernel/shmmni': '1234' } });
    expect(lines).toEqual(['1', '1234']);
    expect(fs.readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim()).toBe(hostShmmni);
  });

  it('sizes /dev/shm', async () => {
    const [line] = await output('grep " /dev/shm " /proc/mounts', { shmSize: 128 * 1024 * 1024 });
    expect(line).toMatch(/size=131072k/);
  });
});

describe('resolv.conf and hosts', () => {
  it('writes the asked name servers, search domains, options and extra hosts', async () => {
    const lines = await output('cat /etc/resolv.conf /etc/hosts', {
      dns: ['192.0.2.53', '2001:db8::53'], dnsSearch: ['corp.example'], dnsOptions: ['ndots:2'], extraHosts: ['db:10.1.2.3', 'v6:[2001:db8::1]', 'gw:host-gateway'],
    });
    expect(lines.slice(0, 4)).toEqual(['nameserver 192.0.2.53', 'nameserver 2001:db8::53', 'search corp.example', 'options ndots:2']);
    expect(lines).toContain('10.1.2.3\tdb');
    expect(lines).toContain('2001:db8::1\tv6');
    // The none network has no gateway: said, not made up.
    expect(lines).toContain('# gw: host-gateway left out, this container has no network gateway');
  });
});

describe('devices, namespaces, groups, OOM settings', () => {
  it('--device HOST:CTR:r makes the node, open for reading only (the device cgroup refuses writes)', async () => {
    // /dev/fuse (10:229) is not among docker's default device rules, unlike /dev/null.
    const script = 'test -c /dev/myfuse && echo node; (exec 3</dev/myfuse) && echo read-open; (exec 3>/dev/myfuse) 2>/dev/null || echo write-refused';
    expect(await output(script, { devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '/dev/myfuse', cgroupPermissions: 'r' }] })).toEqual(['node', 'read-open', 'write-refused']);
    expect(await output('test -e /dev/fuse || echo absent')).toEqual(['absent']);
  });

  it('--pid host sees the host\'s PID 1; --uts host its name', async () => {
    const lines = await output('cat /proc/1/comm; hostname; cat /etc/hostname; echo $HOSTNAME', { pidMode: 'host', utsMode: 'host' });
    expect(lines).toEqual([fs.readFileSync('/proc/1/comm', 'utf8').trim(), os.hostname(), os.hostname(), os.hostname()]);    await expect(h.mgr.create(h.req(['true'], { hostname: 'mine' }, { utsMode: 'host' }))).rejects.toThrow(/conflicting options: a hostname and the host's UTS namespace/);
    // Its record carries the host's name; an update does not take that for a conflict.
    const c = await h.mgr.create(h.req(['true'], {}, { utsMode: 'host' }));
    await h.mgr.update(c.id, containersV1.Resources.fromPartial({ cpuShares: 512 }), undefined);
    expect(h.mgr.get(c.id).hostConfig!.resources!.cpuShares).toBe(512);
  });

  it('--pid and --ipc container:NAME join a running container\'s namespaces', async () => {
    const a = await h.mgr.create(h.req(['sleep', '1000'], {}, {}, 'ns-owner'));
    await h.mgr.start(a.id);
    const pid = h.mgr.get(a.id).state!.pid;
    const lines = await output('cat /proc/1/comm; readlink /proc/self/ns/ipc', { pidMode: 'container:ns-owner', ipcMode: `container:${a.id.slice(0, 12)}` });
    expect(lines).toEqual(['sleep', fs.readlinkSync(`/proc/${pid}/ns/ipc`)]);
  });

  it('joining a container that is not running fails the start with FAILED_PRECONDITION and leaves nothing', async () => {
    const a = await h.mgr.create(h.req(['sleep', '1000'], {}, {}, 'stopped-owner'));
    const b = await h.mgr.create(h.req(['true'], {}, { pidMode: 'container:stopped-owner' }));
    const err = await h.mgr.start(b.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NamespaceTargetNotRunningError);
    expect((err as Error).message).toBe('cannot join the pid namespace of container stopped-owner: it is not running');
    expect(h.mgr.get(b.id).state!.status).toBe('created');
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(h.mgr.paths(b.id).rootfs);
    expect(h.mgr.get(a.id).state!.status).toBe('created');
  });

  it('--group-add by name and number; --oom-score-adj; --oom-kill-disable', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'id -G; cat /proc/self/oom_score_adj; sleep 1000'], { user: 'nobody' }, {
      groupAdd: ['daemon', '4242'], oomScoreAdj: 500, oomKillDisable: true, resources: containersV1.Resources.fromPartial({ memory: 64 << 20 }),
    }));
    await h.mgr.start(c.id);
    await until(() => logLines(c.logPath).length >= 2, 5000, 'output');
    expect(logLines(c.logPath).map((l) => l.text)).toEqual(['65534 1 4242', '500']);
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/berth/${c.id}/memory.oom_control`, 'utf8')).toMatch(/^oom_kill_disable 1$/m);
  });
});

describe('bad values are refused at create, and nothing is made', () => {
  it.each([
    [{ capAdd: ['CAP_FLY'] }, /unknown capability "CAP_FLY"/],
    [{ ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] }, /soft limit 10 is above the hard limit 5/],
    [{ sysctls: { 'kernel.hostname': 'x' } }, /not namespaced/],
    [{ extraHosts: ['db'] }, /invalid extra host "db"/],
    [{ dns: ['resolver.example'] }, /invalid DNS server/],
    [{ shmSize: -5 }, /negative/],
    [{ devices: [{ pathOnHost: '/dev/nope', pathInContainer: '', cgroupPermissions: '' }] }, /adding custom device "\/dev\/nope": no such file/],
    [{ devices: [{ pathOnHost: '/etc/hostname', pathInContainer: '', cgroupPermissions: '' }] }, /not a device node/],
    [{ devices: [{ pathOnHost: '/dev/null', pathInContainer: '', cgroupPermissions: 'rx' }] }, /invalid device permissions "rx"/],
    [{ pidMode: 'sideways' }, /invalid --pid "sideways"/],
    [{ utsMode: 'container:x' }, /invalid --uts/],
    [{ oomScoreAdj: 1001 }, /outside -1000..1000/],
    [{ resources: containersV1.Resources.fromPartial({ cpusetCpus: '0-99' }) }, /CPU .*99 not available/],
    [{ resources: containersV1.Resources.fromPartial({ cpusetCpus: 'a' }) }, /invalid cpuset-cpus "a"/],
    [{ resources: containersV1.Resources.fromPartial({ memory: 8 << 20, memoryReservation: 16 << 20 }) }, /reservation .* is above the memory limit/],
  ] as [Partial<containersV1.HostConfig>, RegExp][])('%j', async (hc, message) => {
    const err = await h.mgr.create(h.req(['true'], {}, hc)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as Error).message).toMatch(message);
    expect(h.mgr.list(true)).toEqual([]);
  });
});
