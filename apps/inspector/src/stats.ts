// docker stats from the cgroup v1 counters and the container's network namespace: a raw sample per
// container, and the figures (CPU % between two samples) as docker stats computes them.
import * as os from 'node:os';
import type { inspectorV1 } from '@berth/api';
import { cgroupDir, readNumber, readText } from './host';

export interface RawSample {
  /** process.hrtime in ns when read. */
  at: bigint;
  /** cpuacct.usage: CPU time in ns. */
  cpuNs: number;
  memUsage: number;
  memInactiveFile: number;
  memLimit: number;
  pids: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
}

/** memory.stat as a map. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

/** /proc/<pid>/net/dev: bytes received and sent over every interface but loopback. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** blkio.throttle.io_service_bytes: "8:0 Read 4096" lines summed over devices ("Total" lines skipped). */
export function parseBlkio(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [, op, v] = line.trim().split(/\s+/);
    if (op === 'Read') read += Number(v);
    if (op === 'Write') write += Number(v);
  }
  return { read, write };
}

export function readSample(id: string, pid: number): RawSample {
  const memStat = parseKeyValues(readText(`${cgroupDir('memory', id)}/memory.stat`) ?? '');
  const net = pid > 0 ? parseNetDev(readText(`/proc/${pid}/net/dev`) ?? '') : { rx: 0, tx: 0 };
  const blk = parseBlkio(readText(`${cgroupDir('blkio', id)}/blkio.throttle.io_service_bytes`) ?? '');
  return {
    at: process.hrtime.bigint(),
    cpuNs: readNumber(`${cgroupDir('cpuacct', id)}/cpuacct.usage`) ?? 0,
    memUsage: readNumber(`${cgroupDir('memory', id)}/memory.usage_in_bytes`) ?? 0,
    memInactiveFile: memStat.get('total_inactive_file') ?? 0,
    memLimit: readNumber(`${cgroupDir('memory', id)}/memory.limit_in_bytes`) ?? 0,
    pids: readNumber(`${cgroupDir('pids', id)}/pids.current`) ?? 0,
    netRx: net.rx,
    netTx: net.tx,
    blkRead: blk.read,
    blkWrite: blk.write,
  };
}

/**
 * The figures docker stats shows: CPU % of one CPU over the interval between the samples (100 % is one core
 * busy), memory usage without the inactive page cache (docker's cgroup v1 rule), the limit capped at the
 * host's memory.
 */
export function toStats(id: string, name: string, cur: RawSample, prev: RawSample | undefined, hostMemory = os.totalmem()): inspectorV1.ContainerStats {
  let cpuPercent = 0;
  if (prev) {
    const wall = Number(cur.at - prev.at);
    const cpu = cur.cpuNs - prev.cpuNs;
    if (wall > 0 && cpu > 0) cpuPercent = (cpu / wall) * 100;
  }
  const memUsage = cur.memInactiveFile < cur.memUsage ? cur.memUsage - cur.memInactiveFile : cur.memUsage;
  return {
    id,
    name,
    cpuPercent,
    memoryUsage: memUsage,
    memoryLimit: cur.memLimit > 0 && cur.memLimit < hostMemory ? cur.memLimit : hostMemory,
    pids: cur.pids,
    netRx: cur.netRx,
    netTx: cur.netTx,
    blockRead: cur.blkRead,
    blockWrite: cur.blkWrite,
  };
}
