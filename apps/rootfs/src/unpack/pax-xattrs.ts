// tar-stream decodes and encodes every PAX record value as UTF-8, which mangles binary xattr values such
// as security.capability (file capabilities: a ping binary would lose cap_net_raw). This swaps in a
// decoder and an encoder that carry SCHILY.xattr.* values byte for byte (as latin1 strings:
// Buffer.from(v, 'latin1') gives the bytes back) and treat every other record as before. tar-stream calls
// headers.decodePax/encodePax through the module object, so replacing the properties is enough.
import * as path from 'node:path';

export const XATTR_PAX_PREFIX = 'SCHILY.xattr.';

type Headers = {
  decodePax(buf: Buffer): Record<string, string>;
  encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Buffer;
};

/** One "<length> key=value\n" record; the length counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let digits = String(body.length).length;
  if (String(body.length + digits).length > digits) digits++;
  return Buffer.concat([Buffer.from(String(body.length + digits)), body]);
}

export function encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Buffer {
  const records: Buffer[] = [];
  if (opts.name) records.push(paxRecord('path', Buffer.from(opts.name, 'utf8')));
  if (opts.linkname) records.push(paxRecord('linkpath', Buffer.from(opts.linkname, 'utf8')));
  for (const [key, value] of Object.entries(opts.pax ?? {})) {
    records.push(paxRecord(key, Buffer.from(value, key.startsWith(XATTR_PAX_PREFIX) ? 'latin1' : 'utf8')));
  }
  return Buffer.concat(records);
}

export function decodePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  while (buf.length > 0) {
    let i = 0;
    while (i < buf.length && buf[i] !== 0x20) i++;
    const len = parseInt(buf.subarray(0, i).toString('ascii'), 10);
    if (!len) return out;
    const record = buf.subarray(i + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) return out;
    const key = record.subarray(0, eq).toString('utf8');
    const value = record.subarray(eq + 1);
    out[key] = key.startsWith(XATTR_PAX_PREFIX) ? value.toString('latin1') : value.toString('utf8');
    buf = buf.subarray(len);
  }
  return out;
}

let installed = false;

export function installBinaryPaxXattrs(): void {
  if (installed) return;
  // The package's exports map hides headers.js; load it by path next to its main file.
  const headers = require(path.join(path.dirname(require.resolve('tar-stream')), 'headers.js')) as Headers;
  headers.decodePax = decodePax;
  headers.encodePax = encodePax;
  installed = true;
}
