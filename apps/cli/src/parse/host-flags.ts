// Docker's security and host-file flags: --cap-add/--cap-drop, --privileged, --security-opt, --ulimit,
// --sysctl, --shm-size, --dns/--dns-search/--dns-option and --add-host, as HostConfig fields. The supervisor
// checks the values against the host (which capabilities exist, fs.nr_open...); this is the syntax.
import type { containersV1 } from '@berth/api';
import { UsageError } from '../cli-error';
import { parseBytes } from './flags';

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
}

type HostFields = Pick<containersV1.HostConfig, 'capAdd' | 'capDrop' | 'privileged' | 'noNewPrivileges' | 'ulimits' | 'sysctls' | 'shmSize' | 'dns' | 'dnsSearch' | 'dnsOptions' | 'extraHosts'>;

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
  };
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
