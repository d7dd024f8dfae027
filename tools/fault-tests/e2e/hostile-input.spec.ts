// Hostile image archives and hostile registries: refused (or bounded) without writing outside the berth root
// and without the services' memory exploding.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BerthClientError } from '@berth/client';
import { buildImage, freePort, packTar, sha256, type BuiltImage, type LayerEntry } from '@berth/testing';
import { chunks, importImages, memoryKb, startBerth, type BerthUnderTest } from './harness';

jest.setTimeout(240_000);

type RawHeader = Extract<LayerEntry, { type: 'raw' }>['header'];
/** A partial tar header (packTar fills in owner and time). */
const hdr = (h: Partial<RawHeader>): RawHeader => h as RawHeader;

/** Imports then unpacks an image; resolves with the error that refused it, or undefined when it went through. */
async function importAndUnpack(b: BerthUnderTest, img: BuiltImage, format: 'docker' | 'oci' = 'docker'): Promise<BerthClientError | undefined> {
  try {
    await importImages(b.berth, [img], format);
    const r = (await b.berth.resolveImage(img.name)).resolved!;
    await b.berth.snapshots.unpack({ layers: r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i] })), image: img.name });
    return undefined;
  } catch (err) {
    if (!(err instanceof BerthClientError)) throw err;
    return err;
  }
}

/** Files under a directory, recursively (no symlinks followed). */
function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map(String);
}

describe('hostile image archives', () => {
  let b: BerthUnderTest;
  let canary: string;

  beforeAll(async () => {
    b = await startBerth();
    // Outside the berth root: nothing may ever appear here.
    canary = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-canary-'));
  });

  afterAll(async () => {
    await b?.stop();
    fs.rmSync(canary, { recursive: true, force: true });
  });

  const up = (n: number) => '../'.repeat(n);

  const cases: [string, () => LayerEntry[]][] = [
    ['path traversal name', () => [{ type: 'file', path: `${up(12)}${canary.slice(1)}/traversal`, content: 'x' }]],
    ['absolute name', () => [{ type: 'raw', header: hdr({ name: `${canary}/absolute`, type: 'file', mode: 0o644 }), content: Buffer.from('x') }]],
    ['absolute symlink written through', () => [{ type: 'symlink', path: 'abs', target: canary }, { type: 'file', path: 'abs/through-abs', content: 'x' }]],
    ['escaping symlink written through', () => [{ type: 'symlink', path: 'esc', target: `${up(12)}${canary.slice(1)}` }, { type: 'file', path: 'esc/through-esc', content: 'x' }]],
    ['hard link out of the layer', () => [{ type: 'hardlink', path: 'passwd-link', target: `${up(12)}etc/passwd` }]],
    ['absolute hard link', () => [{ type: 'hardlink', path: 'shadow-link', target: '/etc/shadow' }]],
    ['device node', () => [{ type: 'raw', header: hdr({ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o666 }) }]],
  ];

  it.each(cases)('%s: refused or kept inside the snapshot, nothing written outside the root', async (label, entries) => {
    const img = await buildImage({ name: `hostile-${label.replace(/\W+/g, '-')}:1`, layers: [entries()] });
    const passwdIno = fs.statSync('/etc/passwd').ino;
    const err = await importAndUnpack(b, img);
    expect(listTree(canary)).toEqual([]);
    if (err) {
      // A refusal names what was wrong, as a client error.
      expect(err.code).toBe(3 /* INVALID_ARGUMENT */);
      expect(err.message.length).toBeGreaterThan(10);
    } else {
      // Went through: then the hostile part must have been confined to the snapshot.
      if (label === 'device node') {
        const found = execFind(b.root, 'mem');
        expect(found.length).toBeGreaterThan(0);
      }
    }
    // No file anywhere in the state root is the host's /etc/passwd.
    const snapRoot = path.join(b.root, 'rootfs');
    for (const f of listTree(snapRoot)) {
      const st = fs.lstatSync(path.join(snapRoot, f));
      if (st.isFile()) expect(st.ino === passwdIno && st.dev === fs.statSync('/etc/passwd').dev).toBe(false);
    }
  });

  it('refuses an outer archive whose entries climb out, writing nothing outside', async () => {
    const tarball = await packTar([
      { type: 'raw', header: hdr({ name: `${up(12)}${canary.slice(1)}/outer`, type: 'file', mode: 0o644 }), content: Buffer.from('x') },
      { type: 'raw', header: hdr({ name: `${canary}/outer-abs`, type: 'file', mode: 0o644 }), content: Buffer.from('x') },
    ]);
    await expect(b.berth.importImage(chunks(tarball))).rejects.toMatchObject({ code: 3 });
    expect(listTree(canary)).toEqual([]);
  });

  it('bounds a giant PAX header without the image-store or rootfs ballooning', async () => {
    const pids = await b.pids();
    const before = { store: memoryKb(pids['image-store']).hwm, rootfs: memoryKb(pids.rootfs).hwm };
    const huge = 'x'.repeat(32 * 1024 * 1024);
    const img = await buildImage({ name: 'hostile-pax:1', layers: [[{ type: 'raw', header: hdr({ name: 'f', type: 'file', mode: 0o644, pax: { comment: huge } }), content: Buffer.from('x') }]] });
    const err = await importAndUnpack(b, img);
    const after = { store: memoryKb(pids['image-store']).hwm, rootfs: memoryKb(pids.rootfs).hwm };
    console.log(`giant PAX (32 MiB): ${err ? `refused: ${err.message.slice(0, 120)}` : 'accepted'}; VmHWM kB before ${JSON.stringify(before)} after ${JSON.stringify(after)}`);
    // A 32 MiB header may be held once, not copied many times over.
    expect(after.store - before.store).toBeLessThan(200 * 1024);
    expect(after.rootfs - before.rootfs).toBeLessThan(200 * 1024);
    if (err) expect(err.code).toBe(3);
  });

  it('streams a gzip decompression bomb layer with bounded memory', async () => {
    const pids = await b.pids();
    const before = { store: memoryKb(pids['image-store']).hwm, rootfs: memoryKb(pids.rootfs).hwm };
    const size = Number(process.env.BERTH_BOMB_MIB ?? 256) * 1024 * 1024;
    const tb = Date.now();
    const layer = await bombLayer(size);
    console.log(`bomb built in ${Date.now() - tb} ms`);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer.blob), size: layer.blob.length }],
      }),
    );
    // An OCI archive carries the gzip blob as is (a docker-archive would need the whole tar in memory).
    const img: BuiltImage = { name: 'hostile-bomb:1', layers: [{ tar: Buffer.alloc(0), diffId: layer.diffId, blob: layer.blob, digest: sha256(layer.blob), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }], config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
    const t0 = Date.now();
    const err = await importAndUnpack(b, img, 'oci');
    const after = { store: memoryKb(pids['image-store']).hwm, rootfs: memoryKb(pids.rootfs).hwm };
    console.log(`gzip bomb (${layer.blob.length} B → ${size} B): ${err ? `refused: ${err.message}` : "unpacked"} in ${Date.now() - t0} ms; VmHWM kB before ${JSON.stringify(before)} after ${JSON.stringify(after)}`);
    expect(after.store - before.store).toBeLessThan(150 * 1024);
    expect(after.rootfs - before.rootfs).toBeLessThan(150 * 1024);
    expect(listTree(canary)).toEqual([]);
  });
});

function execFind(root: string, name: string): string[] {
  return listTree(root).filter((f) => path.basename(f) === name);
}

/** A ustar header for a regular file (packTar wants the content in memory, which a bomb must not need). */
function fileHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (off: number, len: number, v: string) => h.write(v, off, len, 'ascii');
  const octal = (off: number, len: number, n: number) => field(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, Math.floor(Date.UTC(2024, 0, 1) / 1000));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const byte of h) sum += byte;
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** A tar with one file of `size` zero bytes (a multiple of 512), gzip'd: about 1/1000 of its size. */
async function bombLayer(size: number): Promise<{ blob: Buffer; diffId: string }> {
  const head = fileHeader('zeros', size);
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  const gz = zlib.createGzip({ level: 1 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const finished = new Promise((r) => gz.on('end', r));
  const feed = async (buf: Buffer) => {
    hash.update(buf);
    if (!gz.write(buf)) await new Promise((r) => gz.once('drain', r));
  };
  await feed(head);
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  for (let n = 0; n < size; n += zeros.length) await feed(zeros);
  await feed(Buffer.alloc(1024));
  gz.end();
  await finished;
  return { blob: Buffer.concat(out), diffId: 'sha256:' + hash.digest('hex') };
}

describe('hostile registries', () => {
  let b: BerthUnderTest;
  let server: http.Server;
  let host: string;
  let endlessSent = 0;
  let img: BuiltImage;
  const images = new Map<string, BuiltImage>();

  beforeAll(async () => {
    b = await startBerth();
    // One image per repository: blobs from one pull must not already be in the store for the next.
    for (const repo of ['good', 'wrongdigest', 'liar', 'endless']) images.set(repo, await buildImage({ name: `${repo}:1`, layers: [[{ type: 'file', path: 'hello', content: `hello from ${repo} ${randomBytes(8).toString('hex')}` }]] }));
    img = images.get('good')!;
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/' || url === '/v2') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      const repo = /^\/v2\/([^/]+)\//.exec(url)?.[1] ?? '';
      const img = images.get(repo);
      if (!img) return void res.writeHead(404).end();
      const layer = img.layers[0];
      if (/\/manifests\//.test(url)) {
        // "liar" serves another manifest than the digest asked for.
        const body = repo === 'liar' ? Buffer.from(img.manifest.toString().replace('"schemaVersion":2', '"schemaVersion":2 ')) : img.manifest;
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': body.length, 'docker-content-digest': sha256(body) });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      if (url.endsWith(img.configDigest)) return void res.writeHead(200, { 'content-length': img.config.length }).end(img.config);
      if (url.endsWith(layer.digest)) {
        if (repo === 'wrongdigest') {
          const bad = Buffer.from(layer.blob);
          bad[bad.length - 600] ^= 0xff;
          return void res.writeHead(200, { 'content-length': bad.length }).end(bad);
        }
        if (repo === 'endless') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = randomBytes(64 * 1024);
          const pump = () => {
            while (!res.destroyed && endlessSent < 4 * 1024 ** 3) {
              endlessSent += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
          };
          res.on('close', () => undefined);
          return pump();
        }
        return void res.writeHead(200, { 'content-length': layer.blob.length }).end(layer.blob);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await b?.stop();
  });

  const pull = (ref: string) => b.berth.pull(ref, { insecureRegistries: [host] });

  it('pulls from the well-behaved path (the server itself is sound)', async () => {
    const image = await pull(`${host}/good:1`);
    expect(image.target?.digest).toBe(img.manifestDigest);
  });

  it('refuses a blob whose bytes do not match its digest, and stores nothing of it', async () => {
    await expect(pull(`${host}/wrongdigest:1`)).rejects.toThrow(/digest|sha256/i);
    const { images } = await b.berth.images.list({ filter: `${host}/wrongdigest` });
    expect(images).toEqual([]);
  });

  it('refuses a manifest that is not the digest it was pulled by', async () => {
    await expect(pull(`${host}/liar@${images.get('liar')!.manifestDigest}`)).rejects.toThrow(/digest|sha256/i);
  });

  it('stops reading an endless blob body', async () => {
    const pids = await b.pids();
    const before = memoryKb(pids['image-store']).hwm;
    const t0 = Date.now();
    await expect(pull(`${host}/endless:1`)).rejects.toThrow(/size|long|more|exceed|digest/i);
    const after = memoryKb(pids['image-store']).hwm;
    console.log(`endless body: refused after ${Date.now() - t0} ms, server sent ${endlessSent} B (layer is ${images.get('endless')!.layers[0].blob.length} B); VmHWM ${before} → ${after} kB`);
    expect(endlessSent).toBeLessThan(64 * 1024 * 1024);
    expect(after - before).toBeLessThan(100 * 1024);
  });
});
