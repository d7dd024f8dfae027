// A full disk: the state root on a small tmpfs. Loading an image bigger than the space fails with a clear
// RESOURCE_EXHAUSTED, leaves nothing half written, and work resumes: existing images still resolve, a
// container still runs, and a small image loads once the space is free again.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BerthClientError } from '@berth/client';
import { buildImage, busyboxLayerEntries } from '@berth/testing';
import { checkBlobs, importBusybox, importImages, removeAllContainers, startBerth, type BerthUnderTest } from './harness';

jest.setTimeout(100_000);

const SIZE_MB = 32;

function usedKb(dir: string): number {
  const out = execFileSync('df', ['-k', '--output=used', dir], { encoding: 'utf8' }).trim().split('\n');
  return Number(out[out.length - 1]);
}

describe('a full disk under the state root', () => {
  let mnt: string;
  let b: BerthUnderTest | undefined;

  beforeAll(async () => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MB}m,mode=0711`, 'berth-full', mnt]);
    b = await startBerth({ root: mnt });
  });

  afterAll(async () => {
    if (b) {
      await removeAllContainers(b.berth).catch(() => undefined);
      await b.stop();
    }
    execFileSync('umount', ['-l', mnt]);
    fs.rmdirSync(mnt);
  });

  it('refuses an image bigger than the space with RESOURCE_EXHAUSTED, keeps the store whole, and resumes', async () => {
    const berth = b!.berth;
    await importBusybox(berth);
    const baseline = usedKb(mnt);

    // Random bytes do not compress: 48 MiB cannot fit in what is left of 32.
    const big = await buildImage({ name: 'too-big:1', layers: [[{ type: 'file', path: 'blob', content: randomBytes(48 * 1024 * 1024) }]] });
    let err: unknown;
    try {
      await Promise.race([importImages(berth, [big]), new Promise((_, rej) => setTimeout(() => rej(new Error('import hung for 30 s')), 30_000))]);
    } catch (e) {
      if ((e as Error).message === 'import hung for 30 s') console.log(b!.output().split('\n').filter((l) => /image-store|"level":[45]0/.test(l)).slice(-15).join('\n'));
      err = e;
    }
    expect(err).toBeInstanceOf(BerthClientError);
    const e = err as BerthClientError;
    console.log(`full disk: ${e.code} ${e.message}`);
    expect(e.code === 8 /* RESOURCE_EXHAUSTED */ || /no space|ENOSPC|disk/i.test(e.message)).toBe(true);
    expect(e.code).toBe(8);

    // Nothing half written: no ingest left, no record of the image, space back to about where it was.
    const ingest = path.join(mnt, 'image-store', 'ingest');
    expect(fs.existsSync(ingest) ? fs.readdirSync(ingest) : []).toEqual([]);
    await expect(berth.images.get({ reference: 'too-big:1' } as never)).rejects.toMatchObject({ code: 5 });
    expect(usedKb(mnt) - baseline).toBeLessThan(2048);
    expect(checkBlobs(mnt).bad).toEqual([]);

    // Work resumes: the old image resolves and runs, a new small image loads.
    expect((await berth.resolveImage('busybox')).resolved?.layers.length).toBe(1);
    let out = '';
    const r = await berth.run({ image: 'busybox', overrides: { cmd: ['echo', 'still-running'] }, hostConfig: { networkMode: 'none' }, remove: true, attach: {} }, { stdout: (x) => (out += Buffer.from(x).toString()), stderr: () => undefined });
    expect((await r.done!).exitCode).toBe(0);
    expect(out).toContain('still-running');
    const small = await buildImage({ name: 'small-after-full:1', layers: [busyboxLayerEntries(), [{ type: 'file', path: 'after', content: 'ok' }]] });
    await importImages(berth, [small]);
    expect((await berth.resolveImage('small-after-full:1')).resolved?.layers.length).toBe(2);
    expect(checkBlobs(mnt).bad).toEqual([]);
  });

  it('refuses to run a container while the disk is full, leaves nothing behind, and runs once space is freed', async () => {
    const berth = b!.berth;
    await importBusybox(berth);
    // Fill what is left of the tmpfs.
    const filler = path.join(mnt, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', `count=${SIZE_MB}`], { stdio: 'ignore' });
    } catch {
      // dd stops with ENOSPC once the disk is full: that is the point.
    }
    let err: unknown;
    try {
      const r = await berth.run({ image: 'busybox', overrides: { cmd: ['true'] }, hostConfig: { networkMode: 'none' }, remove: true, attach: {} }, { stdout: () => undefined, stderr: () => undefined });
      await r.done;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthClientError);
    const e = err as BerthClientError;
    console.log(`run on a full disk: ${e.code} ${e.message}`);
    expect(e.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(e.message).toMatch(/no space|ENOSPC|disk is full/i);
    // Nothing half made: no container record, no container snapshot, no mount under the root.
    expect((await berth.containers.list({ all: true })).containers).toEqual([]);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(mnt + '/'));
    expect(mounts).toEqual([]);

    fs.rmSync(filler);
    let out = '';
    const r = await berth.run({ image: 'busybox', overrides: { cmd: ['echo', 'space-again'] }, hostConfig: { networkMode: 'none' }, remove: true, attach: {} }, { stdout: (x) => (out += Buffer.from(x).toString()), stderr: () => undefined });
    expect((await r.done!).exitCode).toBe(0);
    expect(out).toContain('space-again');
    expect(checkBlobs(mnt).bad).toEqual([]);
  });
});
