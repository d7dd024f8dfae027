// What docker's --cap-add/--cap-drop, --privileged, --device, --ulimit, --sysctl, --shm-size and --cpuset-*
// make of a container's OCI spec, and the checks that refuse a bad value at create time rather than at start
// in the runtime.
import type { containersV1 } from '@berth/api';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidConfigError } from '../errors';

// Docker's default capability set (moby oci/caps/defaults.go).
export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

// Every capability Linux defines, by number (include/uapi/linux/capability.h).
const CAPS_BY_NUMBER = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO',
  'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME',
  'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

let bounding: string[] | undefined;
/**
 * The capabilities a container can be given: those in the supervisor's own bounding set. That is every one
 * the kernel has on a plain host, fewer when berth itself runs confined (as podman, not docker, allows for).
 */
export function hostCapabilities(): string[] {
  if (!bounding) {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
    const bits = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
    bounding = CAPS_BY_NUMBER.filter((_c, i) => (bits >> BigInt(i)) & 1n);
  }
  return bounding;
}

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN; "ALL" stays ALL. */
function normalizeCap(name: string, flag: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return upper;
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!CAPS_BY_NUMBER.includes(full)) throw new InvalidConfigError(`unknown capability "${name}" in ${flag}`);
  if (!hostCapabilities().includes(full)) throw new InvalidConfigError(`capability ${full} (${flag}) is not in berth's own bounding set on this host`);
  return full;
}

/** The process's capability set, as moby's TweakCapabilities makes it. */
export function capabilitySet(hc: containersV1.HostConfig): string[] {
  const add = hc.capAdd.map((c) => normalizeCap(c, 'cap-add'));
  const drop = hc.capDrop.map((c) => normalizeCap(c, 'cap-drop'));
  if (hc.privileged) return hostCapabilities();
  let caps: string[];
  if (add.includes('ALL')) caps = hostCapabilities().filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPS.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}

// setrlimit(2) resources, as docker names them for --ulimit.
const RLIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);
/** RLIM_INFINITY, a uint64 that a JS number cannot hold: written into config.json by specJson. */
export const RLIM_INFINITY = 18446744073709551615n;

export interface Rlimit {
  type: string;
  soft: number | bigint;
  hard: number | bigint;
}

function nrOpen(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
  } catch {
    return 1_048_576;
  }
}

// /proc/self/limits labels by --ulimit name.
const LIMIT_LABELS: Record<string, string> = {
  cpu: 'Max cpu time', fsize: 'Max file size', data: 'Max data size', stack: 'Max stack size', core: 'Max core file size',
  rss: 'Max resident set', nproc: 'Max processes', nofile: 'Max open files', memlock: 'Max locked memory', as: 'Max address space',
  locks: 'Max file locks', sigpending: 'Max pending signals', msgqueue: 'Max msgqueue size', nice: 'Max nice priority',
  rtprio: 'Max realtime priority', rttime: 'Max realtime timeout',
};

/** The supervisor's own hard limit for a resource; Infinity when unlimited. */
function ownHardLimit(name: string): number {
  const label = LIMIT_LABELS[name]!;
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label));
  const hard = line?.slice(label.length).trim().split(/\s+/)[1];
  return hard && /^\d+$/.test(hard) ? Number(hard) : Infinity;
}

export function validateUlimits(ulimits: containersV1.Ulimit[]): void {
  const seen = new Set<string>();
  for (const u of ulimits) {
    if (!RLIMITS.has(u.name)) throw new InvalidConfigError(`invalid ulimit "${u.name}": use one of ${[...RLIMITS].join(', ')}`);
    if (seen.has(u.name)) throw new InvalidConfigError(`ulimit ${u.name} is given twice`);
    seen.add(u.name);
    for (const v of [u.soft, u.hard]) if (v < -1) throw new InvalidConfigError(`ulimit ${u.name}: ${v} is negative (-1 means unlimited)`);
    const soft = u.soft === -1 ? Infinity : u.soft;
    const hard = u.hard === -1 ? Infinity : u.hard;
    if (soft > hard) throw new InvalidConfigError(`ulimit ${u.name}: soft limit ${u.soft} is above the hard limit ${u.hard}`);
    if (u.name === 'nofile') {
      const max = nrOpen();
      if (hard > max) throw new InvalidConfigError(`ulimit nofile: ${u.hard === -1 ? 'unlimited' : u.hard} is above the host's fs.nr_open ${max}`);
    }
    // Only CAP_SYS_RESOURCE may raise a hard limit; without it the runtime would fail at start.
    if (!hostCapabilities().includes('CAP_SYS_RESOURCE') && hard > ownHardLimit(u.name)) {
      throw new InvalidConfigError(`ulimit ${u.name}: hard limit ${u.hard === -1 ? 'unlimited' : u.hard} is above berth's own ${ownHardLimit(u.name)} and it lacks CAP_SYS_RESOURCE to raise it`);
    }
  }
}

/** The spec's rlimits: docker's default RLIMIT_NOFILE (clamped by the caller) unless the user set nofile. */
export function rlimits(ulimits: containersV1.Ulimit[], defaultNofile: number): Rlimit[] {
  const value = (n: number) => (n === -1 ? RLIM_INFINITY : n);
  const out: Rlimit[] = ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: value(u.soft), hard: value(u.hard) }));
  if (!ulimits.some((u) => u.name === 'nofile')) out.unshift({ type: 'RLIMIT_NOFILE', soft: defaultNofile, hard: defaultNofile });
  return out;
}

// The sysctls a container may set because they only touch its own namespaces (moby opts.ValidateSysctl).
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** "net/ipv4/ip_forward" is written "net.ipv4.ip_forward" too, as docker accepts both. */
export function normalizeSysctl(key: string): string {
  return key.includes('/') ? key.replace(/\//g, '.') : key;
}

export function validateSysctls(sysctls: Record<string, string>, networkMode: string): void {
  for (const [raw, value] of Object.entries(sysctls)) {
    const key = normalizeSysctl(raw);
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(key)) throw new InvalidConfigError(`invalid sysctl name "${raw}"`);
    if (/[\n\0]/.test(value)) throw new InvalidConfigError(`sysctl ${raw}: the value may not hold a newline`);
    if (key.startsWith('net.')) {
      if (networkMode === 'host') throw new InvalidConfigError(`sysctl ${raw} is not allowed with the host's network namespace`);
    } else if (!IPC_SYSCTLS.has(key) && !key.startsWith('fs.mqueue.')) {
      throw new InvalidConfigError(`sysctl ${raw} is not namespaced: only net.*, fs.mqueue.* and the IPC kernel.* ones may be set per container`);
    }
  }
}

export function sysctlSpec(sysctls: Record<string, string>): Record<string, string> | undefined {
  const entries = Object.entries(sysctls);
  return entries.length ? Object.fromEntries(entries.map(([k, v]) => [normalizeSysctl(k), v])) : undefined;
}

/** /dev/shm's tmpfs size option: docker's 64 MiB, or --shm-size in bytes. */
export function shmSizeOption(shmSize: number): string {
  if (shmSize < 0) throw new InvalidConfigError(`shm size ${shmSize} is negative`);
  return shmSize > 0 ? `size=${shmSize}` : 'size=65536k';
}

export interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

// Directories of /dev that are the container's own (or the host's bookkeeping), left out of --privileged as
// moby's devices.HostDevices leaves them out.
const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every character and block device under the host's /dev, for --privileged. */
export function hostDevices(root = '/dev'): HostDevice[] {
  const out: HostDevice[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) {
        if (!(dir === root && SKIPPED_DEV_DIRS.has(d.name))) walk(p);
        continue;
      }
      if (!d.isCharacterDevice() && !d.isBlockDevice()) continue;
      if (dir === root && d.name === 'console') continue;
      const dev = deviceAt(p, false);
      if (dev) out.push(dev);
    }
  };
  walk(root);
  return out;
}

/** The device node at `p` (a link to one too, when `follow`), or undefined when it is none. */
function deviceAt(p: string, follow: boolean): HostDevice | undefined {
  let st: fs.BigIntStats;
  try {
    st = follow ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true });
  } catch {
    return undefined;
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  // glibc's major()/minor() of a dev_t.
  const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn));
  const minor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn));
  return { path: p, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/** config.json text: JSON, with bigint values (RLIM_INFINITY) written as the integers they are. */
export function specJson(spec: unknown): string {
  const marker = `__bigint_${randomUUID().replace(/-/g, '')}_`;
  const text = JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v), 2);
  return text.replace(new RegExp(`"${marker}(\\d+)"`, 'g'), '$1');
}

export interface DeviceRule {
  allow: boolean;
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: string;
}

/**
 * docker --device: each host device (or every device under a host directory) made at its path in the
 * container, with a device cgroup rule for the access asked ("rwm" by default).
 */
export function customDevices(mappings: containersV1.DeviceMapping[]): { devices: HostDevice[]; rules: DeviceRule[] } {
  const devices: HostDevice[] = [];
  const rules: DeviceRule[] = [];
  for (const m of mappings) {
    const access = m.cgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
      throw new InvalidConfigError(`invalid device permissions "${m.cgroupPermissions}" for ${m.pathOnHost}: use a combination of r, w and m`);
    }
    if (!m.pathOnHost.startsWith('/')) throw new InvalidConfigError(`device "${m.pathOnHost}" is not an absolute host path`);
    const inContainer = m.pathInContainer || m.pathOnHost;
    if (!inContainer.startsWith('/')) throw new InvalidConfigError(`device destination "${inContainer}" is not an absolute path`);
    let st: fs.Stats;
    try {
      st = fs.statSync(m.pathOnHost);
    } catch (err) {
      throw new InvalidConfigError(`error gathering device information while adding custom device "${m.pathOnHost}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    let found: HostDevice[];
    if (st.isDirectory()) {
      found = hostDevices(m.pathOnHost).map((d) => ({ ...d, path: path.join(inContainer, path.relative(m.pathOnHost, d.path)) }));
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      found = [{ ...deviceAt(m.pathOnHost, true)!, path: inContainer }];
    } else {
      throw new InvalidConfigError(`error gathering device information while adding custom device "${m.pathOnHost}": not a device node`);
    }
    for (const d of found) {
      devices.push(d);
      rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access });
    }
  }
  return { devices, rules };
}

/** "0-1", "0,2-3": the CPU or memory node list syntax of cpuset. */
function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return [];
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function onlineList(file: string): number[] {
  try {
    return parseCpuList(fs.readFileSync(file, 'utf8'));
  } catch {
    return [0];
  }
}

/** docker --cpuset-cpus/--cpuset-mems: valid syntax, and only CPUs and nodes this host has online. */
export function validateCpuset(r: containersV1.Resources): void {
  const check = (value: string, flag: string, file: string, what: string) => {
    if (!value) return;
    const want = parseCpuList(value);
    if (!want.length) throw new InvalidConfigError(`invalid ${flag} "${value}": use a list like 0-2 or 0,3`);
    const online = onlineList(file);
    const missing = want.filter((c) => !online.includes(c));
    if (missing.length) throw new InvalidConfigError(`${flag} "${value}": ${what} ${missing.join(',')} not available (this host has ${online.join(',')})`);
  };
  check(r.cpusetCpus, 'cpuset-cpus', '/sys/devices/system/cpu/online', 'CPU');
  check(r.cpusetMems, 'cpuset-mems', '/sys/devices/system/node/online', 'memory node');
  if (r.memoryReservation < 0) throw new InvalidConfigError(`memory reservation ${r.memoryReservation} is negative`);
  if (r.memory > 0 && r.memoryReservation > r.memory) {
    throw new InvalidConfigError(`memory reservation ${r.memoryReservation} is above the memory limit ${r.memory}`);
  }
}
