// Reading conmon's k8s-file log: "<RFC3339Nano> <stdout|stderr> <F|P> <text>" per record; P records are the
// first parts of a line that continues in the next record of the same stream.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LogLine {
  time: Date;
  stream: 'stdout' | 'stderr';
  /** The line, with "\n" when it was complete. */
  line: Buffer;
}

export interface LogFilter {
  since?: Date | undefined;
  until?: Date | undefined;
  stdout: boolean;
  stderr: boolean;
}

/** Parses one record; undefined for a malformed one (a torn write is skipped, not fatal). */
export function parseRecord(rec: string): { time: Date; stream: 'stdout' | 'stderr'; partial: boolean; text: string } | undefined {
  const a = rec.indexOf(' ');
  const b = rec.indexOf(' ', a + 1);
  const c = rec.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = rec.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const flag = c < 0 ? rec.slice(b + 1) : rec.slice(b + 1, c);
  if (flag !== 'F' && flag !== 'P') return undefined;
  const time = new Date(rec.slice(0, a));
  if (Number.isNaN(time.getTime())) return undefined;
  return { time, stream, partial: flag === 'P', text: c < 0 ? '' : rec.slice(c + 1) };
}

/** Joins records into lines. Feed it complete records; `flush` gives out partial lines left at the end. */
export class LineAssembler {
  private readonly pending = new Map<string, { time: Date; parts: string[] }>();

  push(rec: string): LogLine | undefined {
    const r = parseRecord(rec);
    if (!r) return undefined;
    const p = this.pending.get(r.stream);
    if (r.partial) {
      if (p) p.parts.push(r.text);
      else this.pending.set(r.stream, { time: r.time, parts: [r.text] });
      return undefined;
    }
    this.pending.delete(r.stream);
    const text = p ? p.parts.join('') + r.text : r.text;
    return { time: p?.time ?? r.time, stream: r.stream, line: Buffer.from(text + '\n') };
  }

  flush(): LogLine[] {
    const out = [...this.pending.entries()].map(([stream, p]) => ({ time: p.time, stream: stream as 'stdout' | 'stderr', line: Buffer.from(p.parts.join('')) }));
    this.pending.clear();
    return out.sort((x, y) => x.time.getTime() - y.time.getTime());
  }
}

export function matches(l: LogLine, f: LogFilter): boolean {
  if (l.stream === 'stdout' && !f.stdout) return false;
  if (l.stream === 'stderr' && !f.stderr) return false;
  if (f.since && l.time < f.since) return false;
  if (f.until && l.time >= f.until) return false;
  return true;
}

export interface ReadLogOptions extends LogFilter {
  follow: boolean;
  /** Last N lines only; negative for all. */
  tail: number;
  /** Whether the container may still write (follow ends once this is false and the file is read). */
  alive: () => boolean;
  signal?: AbortSignal;
}

/** Rotated files of a log, oldest first: ctr.log.N ... ctr.log.1. */
export function rotatedFiles(file: string): string[] {
  const out: string[] = [];
  for (let i = 1; fs.existsSync(`${file}.${i}`); i++) out.unshift(`${file}.${i}`);
  return out;
}

/**
 * Rotates a log the way conmon can be told to: shift ctr.log.N up, rename ctr.log to ctr.log.1, then ask conmon
 * (through `reopen`) to open a new ctr.log. Lines written in between land in ctr.log.1; nothing is lost.
 */
export function rotateLog(file: string, maxFiles: number, reopen: () => void): void {
  fs.rmSync(`${file}.${maxFiles}`, { force: true });
  for (let i = maxFiles - 1; i >= 1; i--) if (fs.existsSync(`${file}.${i}`)) fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  fs.renameSync(file, `${file}.1`);
  reopen();
}

/** Reads one file from an open descriptor, record by record; keeps its place across calls. */
class RecordReader {
  offset = 0;
  private rest = '';
  constructor(
    readonly fd: number,
    readonly ino: number,
  ) {}

  read(asm: LineAssembler, f: LogFilter, out: LogLine[]): void {
    const size = fs.fstatSync(this.fd).size;
    // Truncated in place: start over at its beginning.
    if (size < this.offset) this.offset = 0;
    while (this.offset < size) {
      const buf = Buffer.alloc(Math.min(1 << 20, size - this.offset));
      const n = fs.readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      this.rest += buf.subarray(0, n).toString('utf8');
      let i: number;
      while ((i = this.rest.indexOf('\n')) >= 0) {
        const l = asm.push(this.rest.slice(0, i));
        this.rest = this.rest.slice(i + 1);
        if (l && matches(l, f)) out.push(l);
      }
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function openReader(file: string): RecordReader | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    return new RecordReader(fd, fs.fstatSync(fd).ino);
  } catch {
    return undefined;
  }
}

/**
 * Lines of a log (its rotated files first), following it while the container runs when asked. A follower keeps
 * the current file open: after a rotation it drains the old file before it moves to the new one.
 */
export async function* readLog(file: string, o: ReadLogOptions): AsyncGenerator<LogLine> {
  const asm = new LineAssembler();
  let first: LogLine[] = [];
  for (const old of rotatedFiles(file)) {
    const r = openReader(old);
    if (!r) continue;
    try {
      r.read(asm, o, first);
    } finally {
      r.close();
    }
  }
  let cur = openReader(file);
  const readMore = (): LogLine[] => {
    const out: LogLine[] = [];
    for (;;) {
      if (cur) cur.read(asm, o, out);
      let ino: number | undefined;
      try {
        ino = fs.statSync(file).ino;
      } catch {
        // renamed away and not reopened yet: keep reading the old one
      }
      if (ino === undefined || ino === cur?.ino) return out;
      // A new file took the name: conmon writes only there now, so the old one is complete.
      if (cur) {
        cur.read(asm, o, out);
        cur.close();
      }
      cur = openReader(file);
    }
  };
  try {
    first.push(...readMore());
    if (!o.follow) first.push(...asm.flush().filter((l) => matches(l, o)));
    if (o.tail >= 0) first = o.tail === 0 ? [] : first.slice(-o.tail);
    for (const l of first) yield l;
    if (!o.follow) return;
    let watcher: fs.FSWatcher | undefined;
    let wake: (() => void) | undefined;
    try {
      try {
        watcher = fs.watch(path.dirname(file), () => wake?.());
        watcher.on('error', () => undefined);
      } catch {
        // polling only
      }
      for (;;) {
        if (o.signal?.aborted) return;
        const wasAlive = o.alive();
        for (const l of readMore()) yield l;
        if (!wasAlive) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 250);
          wake = () => {
            clearTimeout(t);
            r();
          };
          o.signal?.addEventListener('abort', wake, { once: true });
        });
        wake = undefined;
      }
      for (const l of asm.flush()) if (matches(l, o)) yield l;
    } finally {
      watcher?.close();
    }
  } finally {
    cur?.close();
  }
}
