// Docker's security, namespace and host-file flags: --cap-add/--cap-drop, --privileged, --security-opt,
// --ulimit, --sysctl, --shm-size, --dns/--dns-search/--dns-option, --add-host, --device, --pid/--ipc/--uts,
// --group-add, --oom-*, and the cpuset/reservation resources, as HostConfig fields. The supervisor
// checks the values against the host (which capabilities exist, fs.nr_open...); this is the syntax.
import type { containersV1 } from '@berth/api';
import { UsageError } from '../cli-error';
import { parseBytes, parseIntFlag } from './flags';

export interface HostFlags {
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  securityOpt?: string[];
  ulimit?: string[];
  sysctl?: string[];
  shmSize?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  networkAlias?: string[];
  domainname?: string;
  ip?: string;
  macAddress?: string;
  device?: string[];
  pid?: string;
  ipc?: string;
  uts?: string;
  groupAdd?: string[];
  oomScoreAdj?: string;
  oomKillDisable?: boolean;
}

/** The resource flags beyond docker's basic five, for run/create and update alike. */
export interface ResourceFlags {
  cpusetCpus?: string;
  cpusetMems?: string;
  memoryReservation?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  memorySwappiness?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
}

type ExtraResources = 'cpusetCpus' | 'cpusetMems' | 'memoryReservation' | 'cpuPeriod' | 'cpuQuota' | 'memorySwappiness'
  | 'deviceReadBps' | 'deviceWriteBps' | 'deviceReadIops' | 'deviceWriteIops';

type HostFields = Pick<containersV1.HostConfig, 'capAdd' | 'capDrop' | 'privileged' | 'noNewPrivileges' | 'ulimits' | 'sysctls' | 'shmSize' | 'dns' | 'dnsSearch' | 'dnsOptions' | 'extraHosts'
  | 'devices' | 'pidMode' | 'ipcMode' | 'utsMode' | 'groupAdd' | 'oomScoreAdj' | 'oomKillDisable' | 'networkAliases'
  | 'ipv4Address' | 'macAddress'>;

export function hostFlags(f: HostFlags): HostFields {
  return {
    capAdd: f.capAdd ?? [],
    capDrop: f.capDrop ?? [],
    privileged: !!f.privileged,
    noNewPrivileges: parseSecurityOpts(f.securityOpt ?? []),
    ulimits: (f.ulimit ?? []).map(parseUlimit),
    sysctls: parseSysctls(f.sysctl ?? []),
    shmSize: f.shmSize !== undefined ? parseBytes(f.shmSize, '--shm-size') : 0,
    dns: f.dns ?? [],
    dnsSearch: f.dnsSearch ?? [],
    dnsOptions: f.dnsOption ?? [],
    extraHosts: (f.addHost ?? []).map(parseAddHost),
    networkAliases: f.networkAlias ?? [],
    ipv4Address: f.ip ?? '',
    macAddress: f.macAddress ?? '',
    devices: (f.device ?? []).map(parseDevice),
    pidMode: f.pid ?? '',
    ipcMode: f.ipc ?? '',
    utsMode: f.uts ?? '',
    groupAdd: f.groupAdd ?? [],
    oomScoreAdj: f.oomScoreAdj !== undefined ? parseIntFlag(f.oomScoreAdj, '--oom-score-adj', -1000) : 0,
    oomKillDisable: !!f.oomKillDisable,
  };
}

export function resourceFlags(f: ResourceFlags): Pick<containersV1.Resources, ExtraResources> {
  return {
    cpusetCpus: f.cpusetCpus ?? '',
    cpusetMems: f.cpusetMems ?? '',
    memoryReservation: f.memoryReservation !== undefined ? parseBytes(f.memoryReservation, '--memory-reservation') : 0,
    cpuPeriod: f.cpuPeriod !== undefined ? parseIntFlag(f.cpuPeriod, '--cpu-period', 0) : 0,
    cpuQuota: f.cpuQuota !== undefined ? parseIntFlag(f.cpuQuota, '--cpu-quota', -1) : 0,
    // docker's -1 is "not set": the host's value stays.
    ...(f.memorySwappiness !== undefined && f.memorySwappiness.trim() !== '-1' ? { memorySwappiness: parseIntFlag(f.memorySwappiness, '--memory-swappiness', 0) } : {}),
    deviceReadBps: (f.deviceReadBps ?? []).map((v) => parseThrottle(v, '--device-read-bps', true)),
    deviceWriteBps: (f.deviceWriteBps ?? []).map((v) => parseThrottle(v, '--device-write-bps', true)),
    deviceReadIops: (f.deviceReadIops ?? []).map((v) => parseThrottle(v, '--device-read-iops', false)),
    deviceWriteIops: (f.deviceWriteIops ?? []).map((v) => parseThrottle(v, '--device-write-iops', false)),
  };
}

/** "/dev/sda:1mb" (a size for the bps flags) or "/dev/sda:300" (a count for the iops ones). */
export function parseThrottle(value: string, flag: string, bytes: boolean): containersV1.ThrottleDevice {
  const i = value.lastIndexOf(':');
  const [path, rate] = i > 0 ? [value.slice(0, i), value.slice(i + 1)] : ['', ''];
  if (!path.startsWith('/') || !rate) throw new UsageError(`invalid ${flag} "${value}": use /dev/DEVICE:${bytes ? 'RATE, e.g. /dev/sda:1mb' : 'COUNT, e.g. /dev/sda:300'}`);
  return { path, rate: bytes ? parseBytes(rate, flag) : parseIntFlag(rate, flag, 0) };
}

/** "/dev/fuse", "/dev/sda:/dev/xvda", "/dev/sda:/dev/xvda:r" or "/dev/sda:rw" (docker --device). */
export function parseDevice(value: string): containersV1.DeviceMapping {
  const parts = value.split(':');
  const isPerms = (p: string | undefined) => p !== undefined && /^[rwm]{1,3}$/.test(p);
  let [host, inContainer, perms] = [parts[0] ?? '', '', ''];
  if (parts.length === 2) {
    if (isPerms(parts[1])) perms = parts[1]!;
    else inContainer = parts[1]!;
  } else if (parts.length === 3) {
    [inContainer, perms] = [parts[1]!, parts[2]!];
  }
  if (!host.startsWith('/') || parts.length > 3 || (inContainer && !inContainer.startsWith('/')) || (perms && !isPerms(perms))) {
    throw new UsageError(`invalid --device "${value}": use /dev/host[:/dev/container][:rwm]`);
  }
  return { pathOnHost: host, pathInContainer: inContainer, cgroupPermissions: perms };
}

/**
 * --security-opt: no-new-privileges (":true", "=true", ":false") is applied. berth sets no seccomp profile,
 * AppArmor profile or SELinux label, so "unconfined"/"disable" ask for what it already does; a profile asks
 * for what it cannot do and is refused.
 */
export function parseSecurityOpts(opts: string[]): boolean {
  let noNewPrivileges = false;
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[:=](.*))?$/.exec(opt);
    const [key, value] = m ? [m[1]!, m[2]] : ['', undefined];
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') noNewPrivileges = true;
      else if (value === 'false') noNewPrivileges = false;
      else throw new UsageError(`invalid --security-opt "${opt}": no-new-privileges takes true or false`);
    } else if ((key === 'seccomp' || key === 'apparmor') && value === 'unconfined') {
      // berth applies neither: nothing to lift.
    } else if (key === 'label' && value === 'disable') {
      // no SELinux labels either.
    } else if (key === 'seccomp' || key === 'apparmor' || key === 'label') {
      throw new UsageError(`unsupported --security-opt "${opt}": berth applies no ${key} profile, only ${key}${key === 'label' ? '=disable' : '=unconfined'} is accepted`);
    } else {
      throw new UsageError(`invalid --security-opt "${opt}": use no-new-privileges[:true|false], seccomp=unconfined, apparmor=unconfined or label=disable`);
    }
  }
  return noNewPrivileges;
}

/** "nofile=1024:2048", "nproc=512" (soft = hard), "core=-1" (unlimited). */
export function parseUlimit(value: string): containersV1.Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value.trim());
  if (!m) throw new UsageError(`invalid --ulimit "${value}": use name=soft[:hard], e.g. nofile=1024:2048`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  return { name: m[1]!, soft, hard };
}

/** "net.ipv4.ip_forward=1" pairs; a key given twice keeps the last value, as docker does. */
export function parseSysctls(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`invalid --sysctl "${v}": use name=value`);
    out[v.slice(0, i).trim()] = v.slice(i + 1);
  }
  return out;
}

/** "name:address" or docker 25's "name=address"; IPv6 addresses may be bracketed. */
export function parseAddHost(value: string): string {
  const eq = value.indexOf('=');
  const colon = value.indexOf(':');
  const i = eq > 0 && (colon < 0 || eq < colon) ? eq : colon;
  if (i <= 0 || i === value.length - 1) throw new UsageError(`invalid --add-host "${value}": use name:address`);
  return `${value.slice(0, i)}:${value.slice(i + 1)}`;
}
