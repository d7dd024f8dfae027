import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetaDb } from '../meta-db';
import { ContentStore } from './content-store';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

describe('ContentStore', () => {
  let dir: string;
  let db: MetaDb;
  let store: ContentStore;
  let events: { topic: string; subjectId: string }[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-'));
    db = new MetaDb(path.join(dir, 'meta.db'));
    events = [];
    store = new ContentStore(dir, db, { publish: (e) => events.push(e) });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ls = (sub: string) => fs.readdirSync(path.join(dir, sub));

  it('stores a verified blob under its digest and reads it back in chunks from an offset', async () => {
    const data = Buffer.alloc(200_000, 7);
    data.write('hello', 0);
    const res = await store.writeStream([data.subarray(0, 1000), data.subarray(1000)], { expectedDigest: sha(data), expectedSize: data.length });
    expect(res).toEqual({ digest: sha(data), size: data.length, alreadyExisted: false });
    expect(fs.readFileSync(path.join(dir, 'blobs/sha256', sha(data).slice(7)))).toEqual(data);
    expect(ls('ingest')).toEqual([]);
    const chunks = [];
    for await (const c of store.read(sha(data), 100, 150_000)) chunks.push(c);
    expect(chunks.every((c) => c.data.length <= 64 * 1024)).toBe(true);
    expect(chunks[0]!.offset).toBe(100);
    expect(Buffer.concat(chunks.map((c) => c.data))).toEqual(data.subarray(100, 150_100));
    expect(store.info(sha(data))).toMatchObject({ size: data.length, references: 0 });
    expect(store.list().map((b) => b.digest)).toEqual([sha(data)]);
    expect(events).toEqual([expect.objectContaining({ topic: 'content.create', subjectId: sha(data) })]);
  });

  it('refuses a wrong digest and leaves nothing under blobs/ or ingest/', async () => {
    const data = Buffer.from('the real bytes');
    const wrong = sha(Buffer.from('other bytes'));
    await expect(store.writeStream([data], { expectedDigest: wrong, expectedSize: data.length })).rejects.toThrow(/digest mismatch: expected sha256:/);
    expect(ls('blobs/sha256')).toEqual([]);
    expect(ls('ingest')).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('refuses a wrong size as soon as the bytes pass it', async () => {
    const data = Buffer.from('0123456789');
    await expect(store.writeStream([data], { expectedDigest: sha(data), expectedSize: 4 })).rejects.toThrow(/size mismatch: expected 4 bytes, got 10/);
    await expect(store.writeStream([data], { expectedDigest: sha(data), expectedSize: 40 })).rejects.toThrow(/size mismatch: expected 40 bytes, got 10/);
    expect(ls('blobs/sha256')).toEqual([]);
    expect(ls('ingest')).toEqual([]);
  });

  it('resumes a broken write from Status(ref).offset', async () => {
    const data = Buffer.alloc(100_000);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const w = await store.openWriter({ ref: 'layer-x', expectedDigest: sha(data), expectedSize: data.length });
    await w.write(data.subarray(0, 30_000));
    await expect(store.openWriter({ ref: 'layer-x', expectedDigest: sha(data) })).rejects.toThrow(/in progress/);
    await w.suspend();
    const st = store.status('layer-x');
    expect(st).toMatchObject({ ref: 'layer-x', offset: 30_000, expectedDigest: sha(data), expectedSize: data.length });
    await expect(store.openWriter({ ref: 'layer-x', expectedDigest: sha(data), offset: 40_000 })).rejects.toThrow(/offset 40000 is past the 30000 bytes held/);
    const w2 = await store.openWriter({ ref: 'layer-x', expectedDigest: sha(data), expectedSize: data.length, offset: st.offset });
    await w2.write(data.subarray(30_000));
    expect(await w2.commit()).toEqual({ digest: sha(data), size: data.length, alreadyExisted: false });
    expect(() => store.status('layer-x')).toThrow(/no unfinished write/);
    expect(ls('ingest')).toEqual([]);
  });

  it('abort drops the partial bytes', async () => {
    const w = await store.openWriter({ ref: 'r', expectedDigest: sha(Buffer.from('abc')) });
    await w.write(Buffer.from('a'));
    await w.suspend();
    store.abort('r');
    expect(ls('ingest')).toEqual([]);
    expect(() => store.abort('r')).toThrow(/no unfinished write/);
  });

  it('answers already_existed without storing twice', async () => {
    const data = Buffer.from('same');
    await store.writeStream([data], { expectedDigest: sha(data) });
    expect(await store.writeStream([data], { expectedDigest: sha(data) })).toMatchObject({ alreadyExisted: true, size: 4 });
    expect(ls('blobs/sha256')).toHaveLength(1);
  });

  it('read and info name unknown digests and out-of-range offsets', async () => {
    const data = Buffer.from('xyz');
    await store.writeStream([data], { expectedDigest: sha(data) });
    expect(() => store.info(sha(Buffer.from('nope')))).toThrow(/not found/);
    expect(() => store.info('sha256:zz')).toThrow(/not a valid digest/);
    await expect(store.read(sha(data), 10).next()).rejects.toThrow(/offset 10 is past the end/);
  });

  it('a lease removes what it created when the image was never recorded', async () => {
    const kept = Buffer.from('kept');
    await store.writeStream([kept], { expectedDigest: sha(kept) });
    const lease = store.lease();
    const fresh = Buffer.from('fresh');
    await store.writeStream([fresh], { lease });
    await store.writeStream([kept], { lease, expectedDigest: sha(kept) });
    expect(() => store.delete(sha(kept))).toThrow(/in use by an import or pull in progress/);
    expect(lease.release()).toEqual([sha(fresh)]);
    expect(store.list().map((b) => b.digest)).toEqual([sha(kept)]);
  });

  it('delete refuses a blob an image uses', async () => {
    const data = Buffer.from('used');
    await store.writeStream([data], { expectedDigest: sha(data) });
    db.putImage(
      { name: 'n', media_type: 'm', digest: sha(data), size: 4, annotations: '{}', manifest_digest: sha(data), config_digest: sha(data), created_at: 0, updated_at: 0, labels: '{}' },
      [sha(data)],
    );
    expect(() => store.delete(sha(data))).toThrow(/in use by n/);
    db.deleteImage('n');
    store.delete(sha(data));
    expect(ls('blobs/sha256')).toEqual([]);
  });
});

describe('ContentStore.pruneIngests', () => {
  it('drops only unfinished writes older than the limit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-prune-'));
    const db = new MetaDb(path.join(dir, 'meta.db'));
    try {
      const store = new ContentStore(dir, db);
      for (const ref of ['old', 'new']) {
        const w = await store.openWriter({ ref, expectedDigest: sha(Buffer.from(ref)) });
        await w.write(Buffer.from('x'));
        await w.suspend();
      }
      const old = store.ingestPath('old');
      const past = new Date(Date.now() - 3 * 3600 * 1000);
      for (const f of ['meta.json', 'data']) fs.utimesSync(path.join(old, f), past, past);
      expect(store.pruneIngests(3600 * 1000)).toEqual([path.basename(old)]);
      expect(store.status('new').offset).toBe(1);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
