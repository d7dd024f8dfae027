// Docker's flag value syntaxes: sizes ("64m", "1g"), CPUs ("1.5"), ports ("127.0.0.1:8080:80/tcp"), binds
// (mounts.ts), env ("K=V", "K" from the caller's environment, env files), restart policies, labels.
import * as fs from 'node:fs';
import { UsageError } from '../cli-error';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** "64m" → 67108864 (docker's RAMInBytes: binary units, optional "b" after the unit, decimals allowed). */
export function parseBytes(value: string, flag = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgtp]?)b?\s*$/i.exec(value);
  if (!m) throw new UsageError(`invalid ${flag} "${value}": use a number with an optional unit b, k, m, g (e.g. 64m, 1g)`);
  const n = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid ${flag} "${value}": too large`);
  return n;
}

/** --memory-swap: -1 means unlimited, else a size. */
export function parseMemorySwap(value: string): number {
  if (value.trim() === '-1') return -1;
  return parseBytes(value, '--memory-swap');
}

/** "1.5" → 1500000000 nano CPUs. */
export function parseCpus(value: string): number {
  const n = Number(value);
  if (!/^\s*\d*\.?\d+\s*$/.test(value) || !Number.isFinite(n) || n <= 0) throw new UsageError(`invalid --cpus "${value}": give a positive number of CPUs, e.g. 0.5 or 2`);
  return Math.round(n * 1e9);
}

export function parseIntFlag(value: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`invalid ${flag} "${value}": not an integer`);
  const n = Number(value);
  if (n < min) throw new UsageError(`invalid ${flag} "${value}": must be at least ${min}`);
  return n;
}

export interface PortSpec {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: string;
}

function port(s: string, what: string, full: string, allowZero: boolean): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535 || (!allowZero && n === 0)) throw new UsageError(`invalid port "${full}": ${what} "${s}" is not a port number (1-65535)`);
  return n;
}

function range(s: string, what: string, full: string, allowZero: boolean): number[] {
  const [a, b] = s.split('-');
  const lo = port(a!, what, full, allowZero);
  if (b === undefined) return [lo];
  const hi = port(b, what, full, allowZero);
  if (hi < lo) throw new UsageError(`invalid port "${full}": range ${s} ends before it starts`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** -p [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO], ranges "8080-8081:80-81" included. */
export function parsePublish(value: string): PortSpec[] {
  let rest = value.trim();
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`invalid port "${value}": protocol must be tcp or udp`);
  }
  let hostIp = '';
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new UsageError(`invalid port "${value}": unclosed [ in the host address`);
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && !(parts.length === 3 && i === 1))) throw new UsageError(`invalid port "${value}": use [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/tcp|udp]`);
  if (parts.length === 3) hostIp = parts.shift()!;
  if (hostIp && !/^[\d.]+$|^[0-9a-f:]+$/i.test(hostIp)) throw new UsageError(`invalid port "${value}": "${hostIp}" is not an IP address`);
  const ctr = range(parts.pop()!, 'container port', value, false);
  const hostPart = parts.pop();
  const host = hostPart ? range(hostPart, 'host port', value, false) : ctr.map(() => 0);
  if (host.length !== ctr.length) throw new UsageError(`invalid port "${value}": the host and container ranges differ in length`);
  return ctr.map((c, i) => ({ hostIp, hostPort: host[i]!, containerPort: c, protocol }));
}


/** -e K=V as given; -e K takes K from this environment and is dropped when unset (as docker does). */
export function parseEnv(values: string[], env: Record<string, string | undefined> = process.env): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v === '' || v.startsWith('=')) throw new UsageError(`invalid environment variable "${v}": the name is empty`);
    if (v.includes('=')) out.push(v);
    else if (env[v] !== undefined) out.push(`${v}=${env[v]}`);
  }
  return out;
}

/** An env file: one K=V (or K) per line, "#" comments and blank lines skipped. */
export function parseEnvFile(file: string, env: Record<string, string | undefined> = process.env): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read env file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.replace(/^\s+/, '')).filter((l) => l && !l.startsWith('#'));
  return parseEnv(lines, env);
}

/** --label-file: one key=value per line; blank lines and # comments skipped (docker's format). */
export function readLabelFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read label file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

export interface RestartSpec {
  name: string;
  maximumRetryCount: number;
}

/** no | always | unless-stopped | on-failure[:N]. */
export function parseRestart(value: string): RestartSpec {
  const [name, count, extra] = value.split(':');
  if (extra !== undefined) throw new UsageError(`invalid restart policy "${value}"`);
  if (name === 'on-failure') {
    if (count === undefined) return { name, maximumRetryCount: 0 };
    if (!/^\d+$/.test(count)) throw new UsageError(`invalid restart policy "${value}": the retry count "${count}" is not a number`);
    return { name, maximumRetryCount: Number(count) };
  }
  if (name === 'no' || name === 'always' || name === 'unless-stopped') {
    if (count !== undefined) throw new UsageError(`invalid restart policy "${value}": only on-failure takes a retry count`);
    return { name: name!, maximumRetryCount: 0 };
  }
  throw new UsageError(`invalid restart policy "${value}": use no, always, unless-stopped or on-failure[:max-retries]`);
}

/** --label k=v (k alone gives an empty value). */
export function parseLabels(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    const k = i < 0 ? v : v.slice(0, i);
    if (!k) throw new UsageError(`invalid label "${v}": the key is empty`);
    out[k] = i < 0 ? '' : v.slice(i + 1);
  }
  return out;
}

/** Detach keys "ctrl-p,ctrl-q" or "a,ctrl-@" as docker takes them. */
export function parseDetachKeys(value: string): string {
  for (const k of value.split(',')) {
    if (!/^(ctrl-[a-z@[\\\]^_]|.)$/.test(k)) throw new UsageError(`invalid detach keys "${value}": "${k}" is not a character or ctrl-<key>`);
  }
  return value;
}

/** Times for --since/--until: RFC 3339, a unix timestamp, or a duration back from now ("10m", "1h30m"). */
export function parseTime(value: string, flag: string, now = Date.now()): Date {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return new Date(Number(v) * 1000);
  const dur = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (dur && v) return new Date(now - ((Number(dur[1] ?? 0) * 60 + Number(dur[2] ?? 0)) * 60 + Number(dur[3] ?? 0)) * 1000);
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return new Date(t);
  throw new UsageError(`invalid ${flag} "${value}": give an RFC 3339 time, a unix timestamp or a duration like 10m`);
}
