// docker top: the host's ps with the caller's arguments, keeping the rows of the container's processes
// (the PID column), each with its PID inside the container's pid namespace. As dockerd does it.
import { execFile } from 'node:child_process';
import type { inspectorV1 } from '@berth/api';
import { InvalidPsArgsError } from './errors';
import { namespacePid } from './host';

export const DEFAULT_PS_ARGS = ['-ef'];

/** The ps arguments: each entry may hold several words ("-o pid,comm"); default -ef. */
export function psArgs(args: string[]): string[] {
  const out = args.flatMap((a) => a.split(/\s+/)).filter(Boolean);
  for (const a of out) {
    if (a.length > 256 || /[\0\n]/.test(a)) throw new InvalidPsArgsError(`invalid ps argument "${a.slice(0, 40)}"`);
  }
  return out.length ? out : DEFAULT_PS_ARGS;
}

export interface PsTable {
  titles: string[];
  rows: string[][];
}

/** ps's output as titles and rows; only the last column may contain spaces (the command). */
export function parsePsOutput(out: string): PsTable {
  const lines = out.split('\n').filter((l) => l.trim());
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const rows = lines.slice(1).map((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length <= titles.length) return f;
    return [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
  });
  return { titles, rows };
}

/** Keeps the rows whose PID is one of `pids`. INVALID_ARGUMENT when ps's output has no PID column. */
export function filterRows(table: PsTable, pids: number[], nsPid: (pid: number) => number = namespacePid): inspectorV1.TopResponse {
  const col = table.titles.indexOf('PID');
  if (col < 0) throw new InvalidPsArgsError(`ps output has no PID column (titles: ${table.titles.join(' ') || 'none'}); keep a PID column in the ps arguments`);
  const want = new Set(pids);
  const processes: inspectorV1.ProcessRow[] = [];
  for (const row of table.rows) {
    const pid = Number(row[col]);
    if (!want.has(pid)) continue;
    processes.push({ columns: row, hostPid: pid, containerPid: nsPid(pid) });
  }
  return { titles: table.titles, processes };
}

export function runPs(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C', COLUMNS: '100000' } }, (err, stdout, stderr) => {
      if (err) {
        const msg = (stderr || err.message).trim().split('\n')[0];
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('ps is not installed on this host (procps)'));
        return reject(new InvalidPsArgsError(`ps ${args.join(' ')} failed: ${msg}`));
      }
      resolve(stdout);
    });
  });
}
