// Aligned tables as docker prints them (tabwriter, 3 spaces of padding), short ids, human sizes and times.
import { humanDuration } from '@berth/client';

export { humanDuration };

/** Rows of cells, aligned in columns; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** Tab separated cells (from a "table" --format) aligned in columns. */
export function alignTabs(lines: string[]): string {
  return table(lines[0]!.split('\t'), lines.slice(1).map((l) => l.split('\t')));
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Docker's HumanSize: decimal units, 3 significant digits ("1.23MB", "512B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

/** Binary units for memory ("64MiB"), as docker stats prints them. */
export function binarySize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number(n.toFixed(2))}${units[i]}`;
}


export function ago(d: Date | string | undefined, now = Date.now()): string {
  if (!d) return '';
  const t = typeof d === 'string' ? Date.parse(d) : d.getTime();
  if (Number.isNaN(t) || t <= 0) return '';
  return `${humanDuration(now - t)} ago`;
}

/** Shortens text to n characters with "…", as docker truncates commands. */
export function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}
