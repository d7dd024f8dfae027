// The tar format as `berth cp` needs it on the host, written here rather than taken from a package: the
// CLI's snapshot bundle must not read the environment at module load (tar-stream's readable-stream does),
// and a cp needs little: ustar headers with PAX records for long names, and a streaming reader that
// understands PAX ('x', 'g') and GNU long names ('L', 'K').

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'block-device' | 'other';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname: string;
}

const TYPE_FLAG: Record<string, EntryType> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'link', '6': 'fifo', '3': 'character-device', '4': 'block-device' };
const FLAG_OF: Partial<Record<EntryType, string>> = { file: '0', directory: '5', symlink: '2', link: '1', fifo: '6' };

export class TarFormatError extends Error {}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  // The length counts its own digits.
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

function rawHeader(h: TarHeader, flag: string, name: string, linkname: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(h.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(Math.min(h.uid, 0o7777777), 8), 108, 'ascii');
  b.write(octal(Math.min(h.gid, 0o7777777), 8), 116, 'ascii');
  b.write(octal(size, 12), 124, 'ascii');
  b.write(octal(Math.max(0, Math.floor(h.mtime.getTime() / 1000)), 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(flag, 156, 'ascii');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(octal(sum, 7) + ' ', 148, 'ascii');
  return b;
}

/** The header block(s) of one entry: a PAX header first when a name, link or owner does not fit ustar. */
export function encodeHeader(h: TarHeader): Buffer {
  const flag = FLAG_OF[h.type];
  if (!flag) throw new TarFormatError(`cannot write a ${h.type} entry`);
  const records: string[] = [];
  if (Buffer.byteLength(h.name) > 100) records.push(paxRecord('path', h.name));
  if (Buffer.byteLength(h.linkname) > 100) records.push(paxRecord('linkpath', h.linkname));
  if (h.uid > 0o7777777) records.push(paxRecord('uid', String(h.uid)));
  if (h.gid > 0o7777777) records.push(paxRecord('gid', String(h.gid)));
  if (h.size > 0o77777777777) records.push(paxRecord('size', String(h.size)));
  const main = rawHeader(h, flag, records.length ? h.name.slice(0, 99) : h.name, h.linkname.slice(0, 100), h.size > 0o77777777777 ? 0 : h.size);
  if (!records.length) return main;
  const pax = Buffer.from(records.join(''));
  return Buffer.concat([rawHeader({ ...h, mode: 0o644 }, 'x', 'PaxHeader', '', pax.length), pax, padding(pax.length), main]);
}

export { padding as tarPadding };

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(1024);

/** Pulls exact byte counts from an async iterable of chunks. */
class ByteReader {
  private buf = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : Buffer.from(r.value);
    }
  }

  /** Exactly n bytes, undefined at a clean end (no byte left); a cut-off read is a format error. */
  async exact(n: number): Promise<Buffer | undefined> {
    await this.fill(n);
    if (!this.buf.length && this.done) return undefined;
    if (this.buf.length < n) throw new TarFormatError('unexpected end of the archive');
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** n bytes as chunks (a file body); `rest` skips what the reader of `body` left (even one that stopped). */
  body(n: number): { body: AsyncIterable<Buffer>; rest(): Promise<void> } {
    let left = n;
    const next = async (): Promise<IteratorResult<Buffer>> => {
      if (left <= 0) return { done: true, value: undefined };
      if (!this.buf.length) await this.fill(1);
      if (!this.buf.length) throw new TarFormatError('unexpected end of the archive');
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      return { done: false, value: out };
    };
    // return() does not end it: the archive's reader still has to skip the rest.
    const iterator: AsyncIterator<Buffer> = { next, return: async () => ({ done: true, value: undefined }) };
    return {
      body: { [Symbol.asyncIterator]: () => iterator },
      rest: async () => {
        while (!(await next()).done) {
          // skipped
        }
      },
    };
  }
}

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z >= 0 ? s.subarray(0, z) : s).toString('utf8');
}

function num(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  // Base-256 (GNU) for values octal cannot hold.
  if (f[0]! & 0x80) {
    let v = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    return v;
  }
  const s = cstr(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(body.subarray(off, sp).toString(), 10);
    if (!len) break;
    const rec = body.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

/**
 * Reads a tar, calling `onEntry` for each entry with its body (which it may leave unread). Throws
 * TarFormatError for a damaged archive.
 */
export async function readTar(data: AsyncIterable<Buffer>, onEntry: (h: TarHeader, body: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const r = new ByteReader(data[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const b = await r.exact(512);
    if (!b || b.every((x) => x === 0)) return;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
    if (sum !== num(b, 148, 8)) throw new TarFormatError('invalid tar header (checksum)');
    const flag = String.fromCharCode(b[156]!);
    let size = num(b, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const body = size ? (await r.exact(size + padding(size).length))!.subarray(0, size) : Buffer.alloc(0);
      if (flag === 'x') pax = parsePax(body);
      if (flag === 'L') longName = cstr(body, 0, body.length);
      if (flag === 'K') longLink = cstr(body, 0, body.length);
      continue;
    }
    const prefix = b.subarray(257, 262).toString() === 'ustar' ? cstr(b, 345, 155) : '';
    let name = cstr(b, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    if (pax.size) size = Number(pax.size);
    const h: TarHeader = {
      name: pax.path ?? longName ?? name,
      type: TYPE_FLAG[flag] ?? 'other',
      mode: num(b, 100, 8),
      uid: pax.uid ? Number(pax.uid) : num(b, 108, 8),
      gid: pax.gid ? Number(pax.gid) : num(b, 116, 8),
      size,
      mtime: new Date((pax.mtime ? Number(pax.mtime) : num(b, 136, 12)) * 1000),
      linkname: pax.linkpath ?? longLink ?? cstr(b, 157, 100),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    const { body, rest } = r.body(h.size);
    await onEntry(h, body);
    await rest();
    if (h.size % 512) await r.exact(512 - (h.size % 512));
  }
}
