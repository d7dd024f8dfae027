// docker --log-driver/--log-opt for the drivers berth has: k8s-file (conmon's log file; "json-file", what
// docker users type, is taken as it, as podman does) and none (nothing kept). k8s-file takes max-size and
// max-file, which replace the supervisor's default rotation for that container.
import type { containersV1 } from '@berth/api';
import { InvalidConfigError } from '../errors';

export type LogDriver = 'k8s-file' | 'none';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function logDriver(lc: containersV1.LogConfig | undefined): LogDriver {
  return lc?.type === 'none' ? 'none' : 'k8s-file';
}

function size(value: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(value.trim());
  if (!m) throw new InvalidConfigError(`invalid log option max-size "${value}": use a size like 10m`);
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (n <= 0) throw new InvalidConfigError(`invalid log option max-size "${value}": must be above 0`);
  return n;
}

/** Refuses unknown drivers and options, and values docker would refuse. */
export function validateLogConfig(lc: containersV1.LogConfig | undefined): void {
  if (!lc) return;
  if (!['', 'k8s-file', 'json-file', 'none'].includes(lc.type)) {
    throw new InvalidConfigError(`unsupported log driver "${lc.type}": berth has k8s-file (json-file is taken as it) and none`);
  }
  const opts = Object.entries(lc.options);
  if (lc.type === 'none' && opts.length) throw new InvalidConfigError(`the none log driver takes no options (got ${opts.map(([k]) => k).join(', ')})`);
  for (const [k] of opts) if (k !== 'max-size' && k !== 'max-file') throw new InvalidConfigError(`unknown log option "${k}" for ${lc.type || 'k8s-file'}: use max-size or max-file`);
  logRotationOf(lc);
}

/** The rotation the options ask for, or undefined to keep the supervisor's default. */
export function logRotationOf(lc: containersV1.LogConfig | undefined): { maxSize: number; maxFiles: number } | undefined {
  const o = lc?.options ?? {};
  if (o['max-file'] !== undefined && o['max-size'] === undefined) throw new InvalidConfigError('log option max-file needs max-size as well');
  if (o['max-size'] === undefined) return undefined;
  const files = o['max-file'] ?? '1';
  if (!/^\d+$/.test(files) || Number(files) < 1) throw new InvalidConfigError(`invalid log option max-file "${files}": use a whole number of at least 1`);
  return { maxSize: size(o['max-size']), maxFiles: Number(files) };
}
