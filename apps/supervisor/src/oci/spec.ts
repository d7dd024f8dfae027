// The OCI runtime spec (config.json) for a container, with Docker's defaults: namespaces, mounts, default
// capabilities, masked and read-only paths, device cgroup rules, rlimits clamped to the host's hard limits.
// What the user's security flags change (caps, --privileged, ulimits, sysctls) is worked out in security.ts.
import type { containersV1 } from '@berth/api';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { validateExtraHosts } from '../container-files';
import { InvalidConfigError, MemoryTooLowError } from '../errors';
import { ociMounts, validateMounts } from '../volumes/container-mounts';
import { cpuAndBlockIoResources, validateCpuAndBlockIo } from './cpu-and-block-io';
import { validateLogConfig } from '../io/log-config';
import { validateNamespaceModes, type NamespaceChoice } from './namespaces';
import { capabilitySet, customDevices, hostDevices, rlimits, shmSizeOption, sysctlSpec, validateCpuset, validateSysctls, validateUlimits } from './security';


export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Docker's minimum --memory. */
export const MIN_MEMORY = 6 * 1024 * 1024;
export const INIT_PATH = '/dev/init';

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface SpecInputs {
  id: string;
  config: containersV1.ContainerConfig;
  hostConfig: containersV1.HostConfig;
  hostname: string;
  rootfsPath: string;
  user: ResolvedUser;
  /** Network namespace to join; undefined shares the host's unless newNetns. */
  netnsPath: string | undefined;
  /** A new network namespace made by the runtime (the "none" network: lo only). */
  newNetns?: boolean;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
  /** Where the init binary is on the host (catatonit). */
  initBinary: string;
  hostLimits: Map<string, number>;
  /** Host path of a named volume's data (Volumes.mountpoint); volume mounts need it. */
  volumeMountpoint?: (name: string) => string;
  /** --pid/--ipc/--uts as namespaceChoices settled them at start; absent = the container's own. */
  namespaces?: Record<'pid' | 'ipc' | 'uts', NamespaceChoice>;
}

/** Entrypoint + cmd, as Docker joins them. */
export function processArgs(config: containersV1.ContainerConfig): string[] {
  return [...config.entrypoint, ...config.cmd];
}

/** Validates the request-side parts of a config that would only fail later (at start or in the runtime). */
export function validateConfig(config: containersV1.ContainerConfig, hostConfig: containersV1.HostConfig): void {
  if (processArgs(config).length === 0) throw new InvalidConfigError('no command specified: the image has no Cmd or Entrypoint and none was given');
  for (const e of config.env) if (!e.includes('=') || e.startsWith('=')) throw new InvalidConfigError(`invalid environment entry "${e}": use KEY=VALUE`);
  if (config.workingDir && !config.workingDir.startsWith('/')) throw new InvalidConfigError(`working directory "${config.workingDir}" is not absolute`);
  const r = hostConfig.resources;
  if (r) {
    if (r.memory < 0) throw new InvalidConfigError(`memory limit ${r.memory} is negative`);
    if (r.memory > 0 && r.memory < MIN_MEMORY) throw new MemoryTooLowError(r.memory);
    if (r.memorySwap > 0 && r.memory === 0) throw new InvalidConfigError('memory-swap needs a memory limit too');
    if (r.memorySwap > 0 && r.memorySwap < r.memory) throw new InvalidConfigError(`memory-swap ${r.memorySwap} must be at least the memory limit ${r.memory}`);
    if (r.cpuShares < 0) throw new InvalidConfigError(`cpu-shares ${r.cpuShares} is negative`);
    if (r.cpuShares > 0 && r.cpuShares < 2) throw new InvalidConfigError(`cpu-shares ${r.cpuShares} is below the minimum 2`);
    if (r.nanoCpus < 0) throw new InvalidConfigError(`cpus ${r.nanoCpus / 1e9} is negative`);
    if (r.pidsLimit < -1) throw new InvalidConfigError(`pids-limit ${r.pidsLimit} is invalid`);
  }
  // Binds, volumes and tmpfs mounts (volumes/container-mounts.ts).
  validateMounts(hostConfig.volumes);
  const policy = hostConfig.restartPolicy?.name ?? '';
  if (!['', 'no', 'on-failure', 'always', 'unless-stopped'].includes(policy)) {
    throw new InvalidConfigError(`invalid restart policy "${policy}": use no, on-failure[:max], always or unless-stopped`);
  }
  if ((hostConfig.restartPolicy?.maximumRetryCount ?? 0) !== 0 && policy !== 'on-failure') {
    throw new InvalidConfigError(`maximum retry count is only valid with the on-failure restart policy`);
  }
  if (hostConfig.restartPolicy?.maximumRetryCount && hostConfig.restartPolicy.maximumRetryCount < 0) throw new InvalidConfigError('maximum retry count cannot be negative');
  if (hostConfig.restartPolicy && policy !== '' && policy !== 'no' && hostConfig.autoRemove) {
    throw new InvalidConfigError('a restart policy cannot be combined with auto-remove (--rm)');
  }
  if (hostConfig.runtime && !['crun', 'runc'].includes(hostConfig.runtime)) throw new InvalidConfigError(`unknown runtime "${hostConfig.runtime}": use crun or runc`);
  capabilitySet(hostConfig);
  validateUlimits(hostConfig.ulimits);
  validateSysctls(hostConfig.sysctls, hostConfig.networkMode);
  shmSizeOption(hostConfig.shmSize);
  validateExtraHosts(hostConfig.extraHosts);
  validateNamespaceModes(hostConfig);
  if (hostConfig.oomScoreAdj < -1000 || hostConfig.oomScoreAdj > 1000) throw new InvalidConfigError(`oom-score-adj ${hostConfig.oomScoreAdj} is outside -1000..1000`);
  if (hostConfig.resources) validateCpuset(hostConfig.resources);
  if (hostConfig.resources) validateCpuAndBlockIo(hostConfig.resources);
  if (config.domainname && hostConfig.utsMode === 'host') throw new InvalidConfigError('conflicting options: a domain name and the host\'s UTS namespace');
  customDevices(hostConfig.devices);
  validateLogConfig(hostConfig.logConfig);
  for (const ns of hostConfig.dns) if (!net.isIP(ns)) throw new InvalidConfigError(`invalid DNS server "${ns}": not an IP address`);
}

/** The hard limits of this process (/proc/self/limits), "RLIMIT_NOFILE" → number; unlimited is absent. */
export function readHostHardLimits(): Map<string, number> {
  const names: Record<string, string> = { 'Max open files': 'RLIMIT_NOFILE', 'Max processes': 'RLIMIT_NPROC' };
  const out = new Map<string, number>();
  for (const line of fs.readFileSync('/proc/self/limits', 'utf8').split('\n')) {
    for (const [label, key] of Object.entries(names)) {
      if (!line.startsWith(label)) continue;
      const hard = line.slice(label.length).trim().split(/\s+/)[1];
      if (hard && /^\d+$/.test(hard)) out.set(key, Number(hard));
    }
  }
  return out;
}

function clamp(key: string, want: number, limits: Map<string, number>): number {
  const hard = limits.get(key);
  return hard === undefined ? want : Math.min(want, hard);
}

/** The memory/swap pair as the runtime takes it (swap is memory+swap in cgroup v1 terms). */
export function memorySettings(r: containersV1.Resources | undefined): { limit: number; swap: number } | undefined {
  if (!r || r.memory <= 0) return undefined;
  const swap = r.memorySwap === -1 ? -1 : r.memorySwap > 0 ? r.memorySwap : r.memory * 2;
  return { limit: r.memory, swap };
}

export function linuxResources(r: containersV1.Resources | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const mem = memorySettings(r);
  if (mem) out.memory = mem;
  const cpu: Record<string, number> = {};
  if (r?.cpuShares) cpu.shares = r.cpuShares;
  if (r?.nanoCpus) {
    cpu.period = 100_000;
    cpu.quota = Math.max(1000, Math.round((r.nanoCpus * 100_000) / 1e9));
  }
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r?.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r?.memoryReservation) out.memory = { ...(out.memory as object | undefined), reservation: r.memoryReservation };
  if (r?.cpusetCpus || r?.cpusetMems) {
    out.cpu = { ...(out.cpu as object | undefined), ...(r.cpusetCpus ? { cpus: r.cpusetCpus } : {}), ...(r.cpusetMems ? { mems: r.cpusetMems } : {}) };
  }
  const more = cpuAndBlockIoResources(r);
  if (more.cpu) out.cpu = { ...(out.cpu as object | undefined), ...more.cpu };
  if (more.memory) out.memory = { ...(out.memory as object | undefined), ...more.memory };
  if (more.blockIO) out.blockIO = more.blockIO;
  return out;
}

// Docker's default device cgroup rules: deny all, then the usual character devices.
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  // A wildcard major/minor is an absent field in OCI terms.
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

export function buildSpec(inp: SpecInputs): Record<string, unknown> {
  const { config, hostConfig } = inp;
  const privileged = hostConfig.privileged;
  let args = processArgs(config);
  const env = [...config.env];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${inp.hostname}`);
  if (config.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', shmSizeOption(hostConfig.shmSize)] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/etc/hostname', type: 'bind', source: inp.hostnamePath, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: inp.hostsPath, options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: inp.resolvConfPath, options: ['rbind', 'rprivate'] },
  ];
  const mountpoint = inp.volumeMountpoint ?? ((name: string) => { throw new InvalidConfigError(`volume ${name} cannot be mounted: no volume store`); });
  mounts.push(...ociMounts(hostConfig.volumes, mountpoint));
  if (hostConfig.init) {
    mounts.push({ destination: INIT_PATH, type: 'bind', source: inp.initBinary, options: ['bind', 'ro'] });
    args = [INIT_PATH, '--', ...args];
  }
  // --pid/--ipc/--uts: the host's is no entry at all, another container's is joined by path.
  const ns = inp.namespaces ?? { pid: { host: false }, ipc: { host: false }, uts: { host: false } };
  const namespaces: Record<string, string>[] = [];
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const c = ns[type];
    if (!c.host) namespaces.push(c.path ? { type, path: c.path } : { type });
  }
  namespaces.push({ type: 'mount' }, { type: 'cgroup' });
  if (inp.netnsPath) namespaces.push({ type: 'network', path: inp.netnsPath });
  else if (inp.newNetns) namespaces.push({ type: 'network' });
  const nofile = clamp('RLIMIT_NOFILE', 1_048_576, inp.hostLimits);
  const caps = capabilitySet(hostConfig);
  const process: Record<string, unknown> = {
    terminal: config.tty,
    user: { uid: inp.user.uid, gid: inp.user.gid, ...(inp.user.additionalGids.length ? { additionalGids: inp.user.additionalGids } : {}) },
    args,
    env,
    cwd: config.workingDir || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    rlimits: rlimits(hostConfig.ulimits, nofile),
    noNewPrivileges: hostConfig.noNewPrivileges,
    oomScoreAdj: hostConfig.oomScoreAdj,
  };
  const custom = customDevices(hostConfig.devices);
  const resources = linuxResources(hostConfig.resources);
  if (hostConfig.oomKillDisable) resources.memory = { ...(resources.memory as object | undefined), disableOOMKiller: true };
  const sysctl = sysctlSpec(hostConfig.sysctls);
  return {
    ociVersion: '1.0.2',
    process,
    root: { path: inp.rootfsPath, readonly: hostConfig.readOnly },
    // The host's UTS namespace keeps the host's name.
    ...(ns.uts.host ? {} : { hostname: inp.hostname, ...(config.domainname ? { domainname: config.domainname } : {}) }),
    mounts,
    linux: {
      cgroupsPath: `/berth/${inp.id}`,
      namespaces,
      resources: { devices: privileged ? [{ allow: true, access: 'rwm' }] : [...DEVICE_RULES, ...custom.rules], ...resources },
      // --privileged: the host's devices made in the container's /dev, nothing hidden or read-only.
      ...(privileged ? { devices: hostDevices() } : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      ...(!privileged && custom.devices.length ? { devices: custom.devices } : {}),
      ...(sysctl ? { sysctl } : {}),
    },
  };
}
