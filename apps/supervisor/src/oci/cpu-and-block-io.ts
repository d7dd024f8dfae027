// The resource flags beyond the basic five: CFS period/quota (docker --cpu-period/--cpu-quota), memory
// swappiness, and per-device I/O throttles (--device-read-bps and friends) with the device numbers the
// runtime's blkio rules need. Checked at Create, so the runtime never sees a value it would refuse.
import * as fs from 'node:fs';
import type { containersV1 } from '@berth/api';
import { InvalidConfigError } from '../errors';

type Throttle = containersV1.ThrottleDevice;
const THROTTLES = [
  ['deviceReadBps', 'throttleReadBpsDevice', 'device-read-bps'],
  ['deviceWriteBps', 'throttleWriteBpsDevice', 'device-write-bps'],
  ['deviceReadIops', 'throttleReadIOPSDevice', 'device-read-iops'],
  ['deviceWriteIops', 'throttleWriteIOPSDevice', 'device-write-iops'],
] as const;

/** Major and minor number of a block device, refusing anything else by name. */
export function blockDeviceNumbers(path: string, flag: string): { major: number; minor: number } {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    throw new InvalidConfigError(`--${flag} ${path}: no such device on the host`);
  }
  if (!st.isBlockDevice()) throw new InvalidConfigError(`--${flag} ${path}: not a block device`);
  // glibc's major()/minor() split of a 64-bit dev_t.
  return { major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
}

export function validateCpuAndBlockIo(r: containersV1.Resources): void {
  if (r.nanoCpus && (r.cpuPeriod || r.cpuQuota)) throw new InvalidConfigError('conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set');
  if (r.cpuPeriod && (r.cpuPeriod < 1000 || r.cpuPeriod > 1_000_000)) throw new InvalidConfigError(`cpu-period ${r.cpuPeriod} is outside 1000..1000000 microseconds`);
  if (r.cpuQuota && r.cpuQuota !== -1 && r.cpuQuota < 1000) throw new InvalidConfigError(`cpu-quota ${r.cpuQuota} is below the minimum 1000 microseconds (-1 for none)`);
  if (r.memorySwappiness !== undefined && (r.memorySwappiness < 0 || r.memorySwappiness > 100)) {
    throw new InvalidConfigError(`memory-swappiness ${r.memorySwappiness} is outside 0..100`);
  }
  for (const [field, , flag] of THROTTLES) for (const t of r[field]) blockDeviceNumbers(t.path, flag);
}

/** The OCI linux.resources parts of these flags (merged into what linuxResources makes). */
export function cpuAndBlockIoResources(r: containersV1.Resources | undefined): { cpu?: Record<string, number>; memory?: Record<string, number>; blockIO?: Record<string, unknown> } {
  if (!r) return {};
  const out: ReturnType<typeof cpuAndBlockIoResources> = {};
  if (r.cpuPeriod || r.cpuQuota) out.cpu = { ...(r.cpuPeriod ? { period: r.cpuPeriod } : {}), ...(r.cpuQuota ? { quota: r.cpuQuota } : {}) };
  if (r.memorySwappiness !== undefined) out.memory = { swappiness: r.memorySwappiness };
  const blockIO: Record<string, unknown> = {};
  for (const [field, oci, flag] of THROTTLES) {
    const list = r[field] as Throttle[];
    if (list.length) blockIO[oci] = list.map((t) => ({ ...blockDeviceNumbers(t.path, flag), rate: t.rate }));
  }
  if (Object.keys(blockIO).length) out.blockIO = blockIO;
  return out;
}
