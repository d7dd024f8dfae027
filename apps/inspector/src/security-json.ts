// HostConfig's security, namespace, device and host-file settings as docker's inspect shows them: null for "not set", as the
// docker CLI does, so `--format '{{.HostConfig.CapAdd}}'` prints the same.
import type { containersV1 } from '@berth/api';

const orNull = <T>(list: T[]): T[] | null => (list.length ? list : null);
const throttles = (list: containersV1.ThrottleDevice[] | undefined) => (list ?? []).map((t) => ({ Path: t.path, Rate: t.rate }));

export function securityFields(hc: containersV1.HostConfig): Record<string, unknown> {
  const sysctls = Object.entries(hc.sysctls);
  return {
    CapAdd: orNull(hc.capAdd),
    CapDrop: orNull(hc.capDrop),
    Privileged: hc.privileged,
    SecurityOpt: hc.noNewPrivileges ? ['no-new-privileges'] : null,
    // docker's units.Ulimit: unlimited is -1 there too.
    Ulimits: orNull(hc.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))),
    Sysctls: sysctls.length ? Object.fromEntries(sysctls) : null,
    ShmSize: hc.shmSize || 64 * 1024 * 1024,
    Dns: hc.dns,
    DnsSearch: hc.dnsSearch,
    DnsOptions: hc.dnsOptions,
    ExtraHosts: orNull(hc.extraHosts),
    Devices: hc.devices.map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer || d.pathOnHost, CgroupPermissions: d.cgroupPermissions || 'rwm' })),
    PidMode: hc.pidMode,
    IpcMode: hc.ipcMode || 'private',
    UTSMode: hc.utsMode,
    GroupAdd: orNull(hc.groupAdd),
    OomScoreAdj: hc.oomScoreAdj,
    OomKillDisable: hc.oomKillDisable,
    CpusetCpus: hc.resources?.cpusetCpus ?? '',
    CpusetMems: hc.resources?.cpusetMems ?? '',
    MemoryReservation: hc.resources?.memoryReservation ?? 0,
    CpuPeriod: hc.resources?.cpuPeriod ?? 0,
    CpuQuota: hc.resources?.cpuQuota ?? 0,
    MemorySwappiness: hc.resources?.memorySwappiness ?? null,
    BlkioDeviceReadBps: throttles(hc.resources?.deviceReadBps),
    BlkioDeviceWriteBps: throttles(hc.resources?.deviceWriteBps),
    BlkioDeviceReadIOps: throttles(hc.resources?.deviceReadIops),
    BlkioDeviceWriteIOps: throttles(hc.resources?.deviceWriteIops),
  };
}
