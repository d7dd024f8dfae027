import { UsageError } from '../cli-error';
import { hostFlags, parseAddHost, parseDevice, parseSecurityOpts, parseSysctls, parseThrottle, parseUlimit, resourceFlags } from './host-flags';

describe('host flags', () => {
  it('maps every flag to its HostConfig field', () => {
    expect(hostFlags({
      capAdd: ['NET_ADMIN'], capDrop: ['MKNOD'], privileged: true, securityOpt: ['no-new-privileges'], ulimit: ['nofile=1024:2048'],
      sysctl: ['net.ipv4.ip_forward=1'], shmSize: '128m', dns: ['192.0.2.1'], dnsSearch: ['a.example'], dnsOption: ['ndots:2'], addHost: ['db=10.0.0.5'],
    })).toEqual({
      capAdd: ['NET_ADMIN'], capDrop: ['MKNOD'], privileged: true, noNewPrivileges: true, ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      sysctls: { 'net.ipv4.ip_forward': '1' }, shmSize: 128 * 1024 * 1024, dns: ['192.0.2.1'], dnsSearch: ['a.example'], dnsOptions: ['ndots:2'], extraHosts: ['db:10.0.0.5'],
      devices: [], pidMode: '', ipcMode: '', utsMode: '', groupAdd: [], oomScoreAdj: 0, oomKillDisable: false, networkAliases: [], ipv4Address: '', macAddress: '',
    });
    expect(hostFlags({ device: ['/dev/fuse'], pid: 'host', ipc: 'container:db', uts: 'host', groupAdd: ['audio'], oomScoreAdj: '-500', oomKillDisable: true })).toMatchObject({
      devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '', cgroupPermissions: '' }], pidMode: 'host', ipcMode: 'container:db', utsMode: 'host',
      groupAdd: ['audio'], oomScoreAdj: -500, oomKillDisable: true,
    });
    expect(() => hostFlags({ oomScoreAdj: '-2000' })).toThrow(/invalid --oom-score-adj "-2000"/);
    expect(resourceFlags({ cpusetCpus: '0-1', memoryReservation: '32m' })).toEqual({
      cpusetCpus: '0-1', cpusetMems: '', memoryReservation: 32 << 20, cpuPeriod: 0, cpuQuota: 0, deviceReadBps: [], deviceWriteBps: [], deviceReadIops: [], deviceWriteIops: [],
    });
    expect(hostFlags({})).toMatchObject({ privileged: false, noNewPrivileges: false, shmSize: 0, ulimits: [], sysctls: {} });
  });

  it('reads --ulimit as docker does: soft only means hard too, -1 unlimited', () => {
    expect(parseUlimit('nproc=512')).toEqual({ name: 'nproc', soft: 512, hard: 512 });
    expect(parseUlimit('core=-1:-1')).toEqual({ name: 'core', soft: -1, hard: -1 });
    for (const bad of ['nofile', 'nofile=', 'nofile=a:b', '=1', 'nofile=1:2:3']) expect(() => parseUlimit(bad)).toThrow(/invalid --ulimit/);
  });

  it('--security-opt: no-new-privileges in its spellings; unconfined asks for nothing; a profile is refused', () => {
    expect(parseSecurityOpts(['no-new-privileges:true'])).toBe(true);
    expect(parseSecurityOpts(['no-new-privileges=true', 'no-new-privileges:false'])).toBe(false);
    expect(parseSecurityOpts(['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'])).toBe(false);
    expect(() => parseSecurityOpts(['seccomp=/etc/profile.json'])).toThrow(/berth applies no seccomp profile/);
    expect(() => parseSecurityOpts(['no-new-privileges:maybe'])).toThrow(UsageError);
    expect(() => parseSecurityOpts(['bogus'])).toThrow(/invalid --security-opt "bogus"/);
  });

  it('--device in docker\'s four forms', () => {
    expect(parseDevice('/dev/sda:/dev/xvda:r')).toEqual({ pathOnHost: '/dev/sda', pathInContainer: '/dev/xvda', cgroupPermissions: 'r' });
    expect(parseDevice('/dev/sda:/dev/xvda')).toEqual({ pathOnHost: '/dev/sda', pathInContainer: '/dev/xvda', cgroupPermissions: '' });
    expect(parseDevice('/dev/sda:rw')).toEqual({ pathOnHost: '/dev/sda', pathInContainer: '', cgroupPermissions: 'rw' });
    for (const bad of ['fuse', '/dev/a:xvda', '/dev/a:/dev/b:rx', '/dev/a:/b:r:x']) expect(() => parseDevice(bad)).toThrow(/invalid --device/);
  });

  it('--sysctl and --add-host syntax', () => {
    expect(parseSysctls(['kernel.shmmax=1', 'kernel.shmmax=2', 'net.core.somaxconn=a=b'])).toEqual({ 'kernel.shmmax': '2', 'net.core.somaxconn': 'a=b' });
    expect(() => parseSysctls(['=1'])).toThrow(/invalid --sysctl/);
    expect(parseAddHost('db:10.0.0.5')).toBe('db:10.0.0.5');
    expect(parseAddHost('v6:[2001:db8::1]')).toBe('v6:[2001:db8::1]');
    expect(parseAddHost('v6=2001:db8::1')).toBe('v6:2001:db8::1');
    expect(() => parseAddHost('db')).toThrow(/invalid --add-host "db"/);
    expect(() => parseAddHost('db:')).toThrow(/invalid --add-host/);
  });

  it('--device-*-bps take a size, --device-*-iops a count; --memory-swappiness -1 is unset', () => {
    expect(parseThrottle('/dev/sda:1mb', '--device-read-bps', true)).toEqual({ path: '/dev/sda', rate: 1_048_576 });
    expect(parseThrottle('/dev/disk/by-id/x:y:300', '--device-read-iops', false)).toEqual({ path: '/dev/disk/by-id/x:y', rate: 300 });
    for (const bad of ['/dev/sda', 'sda:1', '/dev/sda:', '/dev/sda:fast']) expect(() => parseThrottle(bad, '--device-read-iops', false)).toThrow(/invalid --device-read-iops/);
    expect(resourceFlags({ memorySwappiness: '-1' }).memorySwappiness).toBeUndefined();
    expect(resourceFlags({ memorySwappiness: '0', cpuQuota: '-1' })).toMatchObject({ memorySwappiness: 0, cpuQuota: -1 });
    expect(() => resourceFlags({ cpuPeriod: '-5' })).toThrow(UsageError);
  });
});
