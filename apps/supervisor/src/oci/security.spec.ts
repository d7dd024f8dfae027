import * as fs from 'node:fs';
import { containersV1 } from '@berth/api';
import { InvalidConfigError } from '../errors';
import { buildSpec, validateConfig, type SpecInputs } from './spec';
import { capabilitySet, DEFAULT_CAPS, hostCapabilities, hostDevices, RLIM_INFINITY, rlimits, specJson, validateSysctls, validateUlimits } from './security';

const hc = (p: Partial<containersV1.HostConfig>) => containersV1.HostConfig.fromPartial(p);
const cfg = containersV1.ContainerConfig.fromPartial({ cmd: ['true'] });
const ulimit = (name: string, soft: number, hard: number) => ({ name, soft, hard });

function spec(h: containersV1.HostConfig): Record<string, any> {
  const inp: SpecInputs = {
    id: 'b'.repeat(64), config: cfg, hostConfig: h, hostname: 'box', rootfsPath: '/b/rootfs', user: { uid: 0, gid: 0, additionalGids: [] },
    netnsPath: undefined, newNetns: true, hostnamePath: '/s/hostname', hostsPath: '/s/hosts', resolvConfPath: '/s/resolv.conf',
    initBinary: '/usr/bin/catatonit', hostLimits: new Map([['RLIMIT_NOFILE', 20000]]),
  };
  return buildSpec(inp) as Record<string, any>;
}

describe('capabilities (docker --cap-add / --cap-drop / --privileged)', () => {
  it('keeps docker\'s default set when nothing is asked', () => {
    expect(capabilitySet(hc({}))).toEqual(DEFAULT_CAPS);
  });

  it('adds and drops by any spelling docker accepts', () => {
    const caps = capabilitySet(hc({ capAdd: ['net_admin', 'CAP_SYS_PTRACE'], capDrop: ['NET_RAW', 'cap_mknod'] }));
    expect(caps).toEqual(expect.arrayContaining(['CAP_NET_ADMIN', 'CAP_SYS_PTRACE', 'CAP_CHOWN']));
    expect(caps).not.toContain('CAP_NET_RAW');
    expect(caps).not.toContain('CAP_MKNOD');
  });

  it('drop ALL keeps only what is added; add ALL gives every capability but the dropped ones', () => {
    expect(capabilitySet(hc({ capDrop: ['ALL'], capAdd: ['chown'] }))).toEqual(['CAP_CHOWN']);
    const all = capabilitySet(hc({ capAdd: ['all'], capDrop: ['SYS_ADMIN'] }));
    expect(all).toHaveLength(hostCapabilities().length - 1);
    expect(all).not.toContain('CAP_SYS_ADMIN');
  });

  it('gives --privileged every capability the supervisor itself holds', () => {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'))!;
    let bits = BigInt(`0x${line.split(/\s+/)[1]}`);
    let count = 0;
    for (; bits; bits >>= 1n) count += Number(bits & 1n);
    expect(capabilitySet(hc({ privileged: true }))).toHaveLength(count);
  });

  it('refuses a capability that does not exist, naming it', () => {
    expect(() => validateConfig(cfg, hc({ capAdd: ['CAP_FLY'] }))).toThrow(/unknown capability "CAP_FLY" in cap-add/);
    expect(() => validateConfig(cfg, hc({ capDrop: ['bogus'] }))).toThrow(InvalidConfigError);
  });

  it('puts the set in every capability list of the process', () => {
    const p = spec(hc({ capAdd: ['NET_ADMIN'] })).process;
    for (const k of ['bounding', 'effective', 'permitted']) expect(p.capabilities[k]).toContain('CAP_NET_ADMIN');
  });
});

describe('--privileged', () => {
  it('adds the host\'s devices, allows them all, and hides nothing', () => {
    const s = spec(hc({ privileged: true }));
    expect(s.linux.maskedPaths).toBeUndefined();
    expect(s.linux.readonlyPaths).toBeUndefined();
    expect(s.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(s.linux.devices).toContainEqual(expect.objectContaining({ path: '/dev/null', type: 'c', major: 1, minor: 3 }));
    expect(s.mounts.find((m: { destination: string }) => m.destination === '/sys').options).toContain('rw');
  });

  it('reads major and minor numbers as ls -l shows them, and leaves out the container\'s own /dev parts', () => {
    const devs = hostDevices();
    expect(devs.find((d) => d.path === '/dev/zero')).toMatchObject({ type: 'c', major: 1, minor: 5, fileMode: 0o666 });
    expect(devs.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console')).toBe(false);
  });

  it('is not the default: masked paths and docker\'s device rules stay', () => {
    const s = spec(hc({}));
    expect(s.linux.maskedPaths).toContain('/proc/kcore');
    expect(s.linux.devices).toBeUndefined();
    expect(s.linux.resources.devices[0]).toEqual({ allow: false, access: 'rwm' });
  });
});

describe('ulimits (docker --ulimit)', () => {
  it('replaces the default nofile and adds the others; -1 is unlimited', () => {
    expect(rlimits([], 1024)).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
    expect(rlimits([ulimit('nofile', 100, 200), ulimit('core', -1, -1)], 1024)).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
      { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
  });

  it('refuses unknown names, soft above hard, repeats and nofile above fs.nr_open', () => {
    expect(() => validateUlimits([ulimit('files', 1, 1)])).toThrow(/invalid ulimit "files"/);
    expect(() => validateUlimits([ulimit('nproc', 10, 5)])).toThrow(/soft limit 10 is above the hard limit 5/);
    expect(() => validateUlimits([ulimit('nproc', 1, 1), ulimit('nproc', 2, 2)])).toThrow(/given twice/);
    expect(() => validateUlimits([ulimit('nofile', -1, -1)])).toThrow(/fs.nr_open/);
    expect(() => validateUlimits([ulimit('stack', -5, 1)])).toThrow(/negative/);
  });

  it('writes RLIM_INFINITY into config.json as the integer the runtime reads', () => {
    const text = specJson({ rlimits: [{ type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: 5 }], args: ['18446744073709551615'] });
    expect(text).toContain('"soft": 18446744073709551615');
    expect(text).toContain('"18446744073709551615"');
    expect(() => JSON.parse(text)).not.toThrow();
  });
});

describe('sysctls (docker --sysctl)', () => {
  it('takes namespaced ones, with dots or slashes', () => {
    expect(() => validateSysctls({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '20', 'net/ipv4/ping_group_range': '0 0' }, 'bridge')).not.toThrow();
    expect(spec(hc({ sysctls: { 'net/ipv4/ip_forward': '1' } })).linux.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
  });

  it('refuses the host\'s own, and net.* in the host network', () => {
    expect(() => validateSysctls({ 'kernel.hostname': 'x' }, 'bridge')).toThrow(/not namespaced/);
    expect(() => validateSysctls({ 'vm.swappiness': '1' }, 'bridge')).toThrow(/not namespaced/);
    expect(() => validateSysctls({ 'net.ipv4.ip_forward': '1' }, 'host')).toThrow(/host's network namespace/);
    expect(() => validateSysctls({ 'net..x': '1' }, 'bridge')).toThrow(/invalid sysctl name/);
  });
});

describe('other host settings', () => {
  it('sizes /dev/shm', () => {
    const shm = (s: Record<string, any>) => s.mounts.find((m: { destination: string }) => m.destination === '/dev/shm').options;
    expect(shm(spec(hc({})))).toContain('size=65536k');
    expect(shm(spec(hc({ shmSize: 128 << 20 })))).toContain(`size=${128 << 20}`);
    expect(() => validateConfig(cfg, hc({ shmSize: -1 }))).toThrow(/shm size -1 is negative/);
  });

  it('checks --add-host and --dns values', () => {
    expect(() => validateConfig(cfg, hc({ extraHosts: ['db:10.0.0.5', 'gw:host-gateway', 'v6:[::1]'] }))).not.toThrow();
    expect(() => validateConfig(cfg, hc({ extraHosts: ['nocolon'] }))).toThrow(/invalid extra host "nocolon"/);
    expect(() => validateConfig(cfg, hc({ extraHosts: ['db:not-an-ip'] }))).toThrow(/invalid extra host/);
    expect(() => validateConfig(cfg, hc({ dns: ['8.8.8.8', 'dns.example'] }))).toThrow(/invalid DNS server "dns.example"/);
  });
});
