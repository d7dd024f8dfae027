import { containersV1 } from '@berth/api';
import { containerToDocker } from './container-json';
import { sampleContainer } from './sample-container.spec-fixture';

const facts = { mergedDir: '/m', networkIds: new Map<string, string>() };

describe('HostConfig security and host-file fields', () => {
  it('shows what was asked with docker\'s names', () => {
    const base = sampleContainer();
    const hostConfig = containersV1.HostConfig.fromPartial({
      ...base.hostConfig,
      capAdd: ['NET_ADMIN'], capDrop: ['ALL'], privileged: true, noNewPrivileges: true, ulimits: [{ name: 'nofile', soft: 512, hard: 1024 }],
      sysctls: { 'net.ipv4.ip_forward': '1' }, shmSize: 128 << 20, dns: ['192.0.2.53'], dnsSearch: ['corp.example'], dnsOptions: ['ndots:2'],
      extraHosts: ['db:10.0.0.5'],
    });
    const d = containerToDocker({ ...base, hostConfig }, facts) as { HostConfig: Record<string, unknown> };
    expect(d.HostConfig).toMatchObject({
      CapAdd: ['NET_ADMIN'], CapDrop: ['ALL'], Privileged: true, SecurityOpt: ['no-new-privileges'],
      Ulimits: [{ Name: 'nofile', Soft: 512, Hard: 1024 }], Sysctls: { 'net.ipv4.ip_forward': '1' }, ShmSize: 134217728,
      Dns: ['192.0.2.53'], DnsSearch: ['corp.example'], DnsOptions: ['ndots:2'], ExtraHosts: ['db:10.0.0.5'],
    });
  });

  it('shows null where nothing was asked, and the default /dev/shm size', () => {
    const d = containerToDocker(sampleContainer(), facts) as { HostConfig: Record<string, unknown> };
    expect(d.HostConfig).toMatchObject({
      CapAdd: null, CapDrop: null, Privileged: false, SecurityOpt: null, Ulimits: null, Sysctls: null, ShmSize: 67108864,
      Dns: [], DnsSearch: [], DnsOptions: [], ExtraHosts: null, Devices: [], PidMode: '', IpcMode: 'private', UTSMode: '', GroupAdd: null,
      OomScoreAdj: 0, OomKillDisable: false,
    });
  });

  it('shows devices with docker\'s defaults filled in, namespace modes and the cpuset', () => {
    const base = sampleContainer();
    const hostConfig = containersV1.HostConfig.fromPartial({
      ...base.hostConfig, devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '', cgroupPermissions: '' }], pidMode: 'host', ipcMode: 'container:db',
      groupAdd: ['audio'], oomScoreAdj: 10, resources: { ...base.hostConfig!.resources!, cpusetCpus: '0-1', memoryReservation: 1024 },
    });
    const d = containerToDocker({ ...base, hostConfig }, facts) as { HostConfig: Record<string, unknown> };
    expect(d.HostConfig).toMatchObject({
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }], PidMode: 'host', IpcMode: 'container:db',
      GroupAdd: ['audio'], OomScoreAdj: 10, CpusetCpus: '0-1', CpusetMems: '', MemoryReservation: 1024,
    });
  });
});
