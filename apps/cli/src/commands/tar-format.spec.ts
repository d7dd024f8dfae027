import * as tar from 'tar-stream';
import { packTar } from '@berth/testing';
import { encodeHeader, readTar, TAR_END, tarPadding, TarFormatError, type TarHeader } from './tar-format';

async function* pieces(buf: Buffer, size = 700): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += size) yield buf.subarray(off, off + size);
}

async function entries(buf: Buffer, readBodies = true): Promise<[TarHeader, string][]> {
  const out: [TarHeader, string][] = [];
  await readTar(pieces(buf), async (h, body) => {
    let text = '';
    if (readBodies) for await (const c of body) text += c.toString();
    out.push([h, text]);
  });
  return out;
}

const long = 'd/' + 'x'.repeat(150) + '/file-with-a-long-name.txt';

it('reads what another tar writer made: ustar, PAX long names and links, bodies across chunks', async () => {
  const buf = await packTar([
    { type: 'dir', path: 'd/', mode: 0o750, uid: 5, gid: 6 },
    { type: 'file', path: long, content: 'a'.repeat(1500) },
    { type: 'symlink', path: 'd/ln', target: 'y'.repeat(120) },
    { type: 'hardlink', path: 'd/hard', target: long },
  ]);
  const got = await entries(buf);
  expect(got.map(([h]) => [h.name, h.type])).toEqual([['d/', 'directory'], [long, 'file'], ['d/ln', 'symlink'], ['d/hard', 'link']]);
  expect(got[0]![0]).toMatchObject({ mode: 0o750, uid: 5, gid: 6 });
  expect(got[1]![1]).toBe('a'.repeat(1500));
  expect(got[2]![0].linkname).toBe('y'.repeat(120));
  expect(got[3]![0].linkname).toBe(long);
  // Bodies left unread are skipped.
  expect((await entries(buf, false)).map(([h]) => h.name)).toEqual(['d/', long, 'd/ln', 'd/hard']);
});

it('writes headers another tar reader reads back, long names included', async () => {
  const mtime = new Date('2024-01-01T00:00:00Z');
  const base = { mode: 0o640, uid: 1000, gid: 2000, mtime, size: 0, linkname: '' };
  const body = Buffer.from('hello\n');
  const buf = Buffer.concat([
    encodeHeader({ ...base, name: 'dir/', type: 'directory' }),
    encodeHeader({ ...base, name: long, type: 'file', size: body.length }),
    body,
    tarPadding(body.length),
    encodeHeader({ ...base, name: 'dir/ln', type: 'symlink', linkname: 'z'.repeat(130) }),
    TAR_END,
  ]);
  const seen: tar.Header[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    seen.push(h);
    s.resume();
    s.on('end', next);
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', reject);
    ex.end(buf);
  });
  expect(seen.map((h) => [h.name, h.type, h.mode, h.uid, h.gid])).toEqual([
    ['dir/', 'directory', 0o640, 1000, 2000],
    [long, 'file', 0o640, 1000, 2000],
    ['dir/ln', 'symlink', 0o640, 1000, 2000],
  ]);
  expect(seen[2]!.linkname).toBe('z'.repeat(130));
  expect((await entries(buf)).map(([h, t]) => [h.name, t])).toEqual([['dir/', ''], [long, 'hello\n'], ['dir/ln', '']]);
});

it('refuses a damaged archive: a bad checksum, a cut body', async () => {
  await expect(entries(Buffer.from('not a tar '.repeat(60)))).rejects.toBeInstanceOf(TarFormatError);
  const buf = await packTar([{ type: 'file', path: 'f', content: 'x'.repeat(2000) }]);
  await expect(entries(buf.subarray(0, 1200))).rejects.toThrow('unexpected end of the archive');
});
