// Power-cut simulation for the stores: kill -9 in the middle of a large write, let the launcher restart the
// service, then check every store is consistent and the retried operation succeeds.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthClientError } from '@berth/client';
import { buildImage, sha256 } from '@berth/testing';
import { checkBlobs, importBusybox, importImages, startBerth, until, type BerthUnderTest, type ServiceName } from './harness';

jest.setTimeout(180_000);

/** Bytes under dir while a service writes there: entries renamed or removed between listing and stat are skipped. */
function dirBytes(dir: string): number {
  let n = 0;
  let entries: (string | Buffer)[];
  try {
    entries = fs.readdirSync(dir, { recursive: true });
  } catch {
    return 0;
  }
  for (const f of entries) {
    const st = fs.lstatSync(path.join(dir, String(f)), { throwIfNoEntry: false });
    if (st?.isFile()) n += st.size;
  }
  return n;
}

describe('power cut during store writes', () => {
  let b: BerthUnderTest;

  beforeAll(async () => {
    b = await startBerth();
    await importBusybox(b.berth);
  });

  afterAll(async () => {
    await b?.stop();
  });

  /** Starts op, kills svc once `progress()` passes `atBytes`, waits for the restart; returns op's failure. */
  async function killDuring(svc: ServiceName, op: Promise<unknown>, progress: () => number, atBytes: number): Promise<unknown> {
    const pids = await b.pids();
    const outcome = op.then(
      () => undefined,
      (err: unknown) => err,
    );
    await until(() => progress() > atBytes, 60_000, `${svc} to have written ${atBytes} bytes`);
    process.kill(pids[svc], 'SIGKILL');
    const err = await outcome;
    await until(async () => ((await b.pids())[svc] !== pids[svc] ? true : undefined), 30_000, `${svc} restarted`);
    return err;
  }

  const ingest = () => dirBytes(path.join(b.root, 'image-store', 'ingest'));

  it('image-store killed during a large Content.Write: blobs all match their digests and the retry succeeds', async () => {
    const data = randomBytes(64 * 1024 * 1024);
    const err = await killDuring('image-store', b.berth.writeBlob(data, 'application/octet-stream'), ingest, 8 * 1024 * 1024);
    console.log(`write cut: ${(err as Error).constructor.name} ${(err as BerthClientError).code} ${(err as Error).message}`);
    expect(err).toBeInstanceOf(BerthClientError);
    expect((err as BerthClientError).code).toBe(14 /* UNAVAILABLE */);
    const blobs = checkBlobs(b.root);
    expect(blobs.bad).toEqual([]);
    expect(fs.existsSync(path.join(b.root, 'image-store', 'blobs', 'sha256', sha256(data).slice(7)))).toBe(false);

    const res = await b.berth.writeBlob(data, 'application/octet-stream');
    expect(res.descriptor.digest).toBe(sha256(data));
    expect((await b.berth.content.info({ digest: sha256(data) })).info?.size).toBe(data.length);
    expect(checkBlobs(b.root).bad).toEqual([]);
  });

  it('image-store killed during an Import: no half image, blobs consistent, the retry succeeds', async () => {
    const img = await buildImage({ name: 'cut-import:1', layers: [[{ type: 'file', path: 'big', content: randomBytes(48 * 1024 * 1024) }]] });
    const before = ingest();
    const err = await killDuring('image-store', importImages(b.berth, [img]), ingest, before + 8 * 1024 * 1024);
    expect(err).toBeInstanceOf(BerthClientError);
    expect((err as BerthClientError).code).toBe(14);
    await expect(b.berth.images.get({ reference: img.name })).rejects.toMatchObject({ code: 5 });
    expect(checkBlobs(b.root).bad).toEqual([]);

    await importImages(b.berth, [img]);
    expect((await b.berth.resolveImage(img.name)).resolved?.layers.map((l) => l.digest)).toEqual([img.layers[0].digest]);
    expect(checkBlobs(b.root).bad).toEqual([]);
  });

  it('rootfs killed during an Unpack: no half snapshot, no stray directories, the retry succeeds', async () => {
    const r = (await b.berth.resolveImage('cut-import:1')).resolved!;
    const layers = r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i] }));
    const snapDir = path.join(b.root, 'rootfs', 'snapshots');
    const listBefore = (await b.berth.snapshots.list({ parent: '' })).snapshots.map((s) => s.key).sort();
    const err = await killDuring('rootfs', b.berth.snapshots.unpack({ layers, image: 'cut-import:1' }), () => dirBytes(snapDir), 8 * 1024 * 1024);
    expect(err).toBeInstanceOf(BerthClientError);
    expect((err as BerthClientError).code).toBe(14);

    // The interrupted layer is not a snapshot; start-up swept its half-made directory.
    await until(async () => (await b.berth.snapshots.list({ parent: '' }).catch(() => undefined)) !== undefined, 20_000, 'rootfs serving');
    const after = (await b.berth.snapshots.list({ parent: '' })).snapshots;
    expect(after.map((s) => s.key).sort()).toEqual(listBefore);
    const dirs = fs.readdirSync(snapDir);
    expect(dirs.filter((d) => d.startsWith('new-') || d.startsWith('rm-'))).toEqual([]);
    expect(dirs.length).toBe(after.length);

    const done = await b.berth.snapshots.unpack({ layers, image: 'cut-import:1' });
    expect(done.chainId).toMatch(/^sha256:/);
    // The layer is whole: its own bytes are the 48 MiB file (plus the tar's directory overhead).
    expect((await b.berth.snapshots.usage({ key: done.chainId })).size).toBeGreaterThanOrEqual(48 * 1024 * 1024);
    expect((await b.berth.snapshots.list({ parent: '' })).snapshots.length).toBe(after.length + 1);
  });
});
