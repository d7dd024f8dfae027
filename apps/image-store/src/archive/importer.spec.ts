import * as zlib from 'node:zlib';
import { compress } from 'zstd-napi';
import { buildImage, busyboxImage, dockerArchive, ociArchive, packTar, sha256, type BuiltImage } from '@berth/testing';
import { chunked, openTestStore, type TestStore } from '../test-store';

describe('Importer (in-process)', () => {
  let t: TestStore;
  let busybox: BuiltImage;
  beforeAll(async () => {
    busybox = await busyboxImage('busybox:latest');
  });
  beforeEach(() => {
    t = openTestStore();
  });
  afterEach(() => t.close());

  const load = (buf: Buffer, opts = {}) => t.store.importer.import(chunked(buf), opts);

  it('imports a docker-archive as an OCI manifest whose config is the one in the archive', async () => {
    const res = await load(await dockerArchive([busybox]));
    expect(res.images.map((i) => i.name)).toEqual(['docker.io/library/busybox:latest']);
    expect(res.blobsWritten).toBe(3);
    const { resolved } = t.store.images.get('busybox');
    expect(resolved.id).toBe(busybox.configDigest);
    expect(resolved.diffIds).toEqual([busybox.layers[0]!.diffId]);
    expect(resolved.layers).toEqual([{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: busybox.layers[0]!.diffId, size: busybox.layers[0]!.tar.length }]);
    expect(t.snapshot().ingest).toEqual([]);
    expect(t.events.map((e) => e.topic)).toEqual(['content.create', 'content.create', 'content.create', 'image.create']);
    const manifestDigest = res.images[0]!.target.digest;
    expect(t.store.images.get(`busybox@${manifestDigest}`).image.name).toBe('docker.io/library/busybox:latest');
    expect(() => t.store.images.get(`other@${manifestDigest}`)).toThrow(/no such image/);
  });

  it('imports a gzip OCI layout, checking layer diff ids', async () => {
    const gz = await busyboxImage('busybox:gz', 'gzip');
    const res = await load(await ociArchive([gz]));
    expect(res.images.map((i) => i.name)).toEqual(['docker.io/library/busybox:gz']);
    expect(res.images[0]!.target.digest).toBe(gz.manifestDigest);
    expect(t.store.images.get(gz.configDigest.slice(7, 19)).resolved.diffIds).toEqual([gz.layers[0]!.diffId]);
  });

  it('accepts a whole archive that was gzipped (docker save | gzip)', async () => {
    const res = await load(zlib.gzipSync(await dockerArchive([busybox])));
    expect(res.images).toHaveLength(1);
  });

  it('stores a layer two images share once and collects only what the deleted image alone used', async () => {
    const base = [{ type: 'file' as const, path: 'base.txt', content: 'base layer' }];
    const a = await buildImage({ name: 'multi/a:1', layers: [base, [{ type: 'file', path: 'a.txt', content: 'a' }]] });
    const b = await buildImage({ name: 'multi/b:1', layers: [base, [{ type: 'file', path: 'b.txt', content: 'b' }]] });
    await load(await dockerArchive([a, b]));
    expect(t.snapshot().blobs).toHaveLength(1 + 2 + 2 + 2); // shared layer, 2 own layers, 2 configs, 2 manifests
    const usage = t.store.images.usage();
    expect(usage.sharedBytes).toBe(a.layers[0]!.tar.length);
    expect(usage.images.find((i) => i.id === a.configDigest)).toMatchObject({ sharedSize: a.layers[0]!.tar.length });
    const del = t.store.images.delete('multi/a:1');
    expect(del.untagged).toEqual(['docker.io/multi/a:1']);
    expect(del.deleted.sort()).toEqual([a.layers[1]!.diffId, a.configDigest, expect.stringMatching(/^sha256:/)].sort());
    expect(t.snapshot().blobs).toContain(a.layers[0]!.diffId.slice(7));
    t.store.images.delete('multi/b:1');
    expect(t.snapshot().blobs).toEqual([]);
  });

  it('imports a rootfs tarball with changes', async () => {
    const rootfs = zlib.gzipSync(await packTar([{ type: 'dir', path: 'etc/' }, { type: 'file', path: 'etc/hostname', content: 'x\n' }]));
    const res = await load(rootfs, { format: 'rootfs', name: 'my/rootfs:v1', changes: ['CMD ["/bin/sh"]', 'ENV A=b', 'WORKDIR /srv', 'EXPOSE 80 53/udp', 'USER 1000', 'LABEL k=v'], message: 'hello' });
    expect(res.images[0]!.name).toBe('docker.io/my/rootfs:v1');
    const { resolved } = t.store.images.get('my/rootfs:v1');
    expect(resolved.layers[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(resolved.diffIds).toEqual([sha256(zlib.gunzipSync(rootfs))]);
    const cfg = JSON.parse(resolved.configJson.toString());
    expect(cfg.config).toMatchObject({ Cmd: ['/bin/sh'], WorkingDir: '/srv', User: '1000', Labels: { k: 'v' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} } });
    expect(cfg.config.Env).toContain('A=b');
    expect(cfg.history[0].comment).toBe('hello');
  });

  it('imports zstd layers (OCI layout and docker-archive), sniffing the magic bytes', async () => {
    const img = await busyboxImage('zstd/bb:1');
    const layer = img.layers[0]!;
    const blob = compress(layer.tar);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: img.configDigest, size: img.config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha256(blob), size: blob.length }],
      }),
    );
    const zimg: BuiltImage = { ...img, layers: [{ ...layer, blob, digest: sha256(blob), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }], manifest, manifestDigest: sha256(manifest) };
    await load(await ociArchive([zimg]));
    expect(t.store.images.get('zstd/bb:1').resolved.layers[0]).toMatchObject({ digest: sha256(blob), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' });
    // A docker-archive whose layer.tar is zstd: the diff id is checked on the decompressed bytes.
    const docker = await packTar([
      { type: 'file', path: 'layer/layer.tar', content: blob },
      { type: 'file', path: 'config.json', content: img.config },
      { type: 'file', path: 'manifest.json', content: JSON.stringify([{ Config: 'config.json', RepoTags: ['zstd/docker:1'], Layers: ['layer/layer.tar'] }]) },
    ]);
    await load(docker);
    expect(t.store.images.get('zstd/docker:1').resolved.layers[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(t.store.db.getLayerInfo(sha256(blob))).toEqual({ digest: sha256(blob), diff_id: layer.diffId, uncompressed_size: layer.tar.length });
  });

  it('reads manifest.json placed before the layers, legacy layer.tar symlinks and names from "repositories"', async () => {
    const base = [{ type: 'file' as const, path: 'f', content: 'base' }];
    const a = await buildImage({ name: 'x:1', layers: [base] });
    const archive = await packTar([
      { type: 'file', path: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['l2/layer.tar'] }]) },
      { type: 'file', path: 'repositories', content: JSON.stringify({ 'legacy/app': { v1: 'l2' } }) },
      { type: 'dir', path: 'l1/' },
      { type: 'file', path: 'l1/layer.tar', content: a.layers[0]!.tar },
      { type: 'file', path: 'l1/json', content: '{}' },
      { type: 'file', path: 'l1/VERSION', content: '1.0' },
      { type: 'dir', path: 'l2/' },
      { type: 'symlink', path: 'l2/layer.tar', target: '../l1/layer.tar' },
      { type: 'file', path: 'c.json', content: a.config },
    ]);
    const res = await load(archive);
    expect(res.images.map((i) => i.name)).toEqual(['docker.io/legacy/app:v1']);
    expect(t.store.images.get('legacy/app:v1').resolved.diffIds).toEqual([a.layers[0]!.diffId]);
  });

  it('records an image without any name as berth-dangling@<manifest digest>, found by id', async () => {
    const img = await buildImage({ name: 'ignored:1', layers: [[{ type: 'file', path: 'd', content: 'dangling' }]] });
    const archive = await packTar([
      { type: 'file', path: 'l/layer.tar', content: img.layers[0]!.tar },
      { type: 'file', path: 'c.json', content: img.config },
      { type: 'file', path: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'] }]) },
    ]);
    const res = await load(archive);
    expect(res.images[0]!.name).toBe(`docker.io/library/berth-dangling@${res.images[0]!.target.digest}`);
    expect(t.store.images.get(img.configDigest.slice(7, 20)).image.name).toBe(res.images[0]!.name);
    // Naming it later and removing the dangling record keeps the image.
    t.store.images.tag(img.configDigest, 'named:1');
    t.store.images.delete(res.images[0]!.name);
    expect(t.store.images.get('named:1').resolved.id).toBe(img.configDigest);
  });

  it('moves a name to a new image and collects what the old one alone used', async () => {
    const one = await buildImage({ name: 'moving:1', layers: [[{ type: 'file', path: 'v', content: '1' }]] });
    const two = await buildImage({ name: 'moving:1', layers: [[{ type: 'file', path: 'v', content: '2' }]] });
    await load(await dockerArchive([one]));
    await load(await dockerArchive([two]));
    expect(t.store.images.get('moving:1').resolved.id).toBe(two.configDigest);
    expect(t.snapshot().blobs).not.toContain(one.layers[0]!.diffId.slice(7));
    expect(t.events.map((e) => e.topic)).toContain('image.update');
  });

  it('loads one archive four times at once, even when all start in the same millisecond', async () => {
    // Each staged entry needs a write ref of its own: refs made from the time would collide here.
    jest.spyOn(Date, 'now').mockReturnValue(1_795_907_949_224);
    try {
      const archive = await dockerArchive([busybox]);
      const results = await Promise.all([0, 1, 2, 3].map(() => load(archive)));
      for (const r of results) expect(r.images.map((i) => i.name)).toEqual(['docker.io/library/busybox:latest']);
    } finally {
      jest.restoreAllMocks();
    }
    expect(t.store.images.get('busybox').resolved.id).toBe(busybox.configDigest);
    expect(t.snapshot().ingest).toEqual([]);
  });

  describe('refuses bad archives and leaves nothing behind', () => {
    async function expectRefused(buf: Buffer, pattern: RegExp, opts = {}) {
      const before = t.snapshot();
      await expect(load(buf, opts)).rejects.toThrow(pattern);
      expect(t.snapshot()).toEqual(before);
      expect(t.store.db.listImages()).toEqual([]);
    }

    it('a truncated archive', async () => {
      const full = await dockerArchive([busybox]);
      await expectRefused(full.subarray(0, Math.floor(full.length / 2) + 100), /truncated/);
    });
    it('a corrupt header', async () => {
      const full = Buffer.from(await dockerArchive([busybox]));
      full.fill(0x41, 0, 100);
      await expectRefused(full, /truncated or not a tar/);
    });
    it('a layer whose digest does not match its diff id', async () => {
      const bad = await busyboxImage();
      const cfg = JSON.parse(bad.config.toString());
      cfg.rootfs.diff_ids = [sha256('something else')];
      bad.config = Buffer.from(JSON.stringify(cfg));
      bad.configDigest = sha256(bad.config);
      await expectRefused(await dockerArchive([bad]), /does not match diff id/);
    });
    it('an OCI blob whose bytes do not match its name', async () => {
      const img = await busyboxImage();
      const archive = await ociArchive([img]);
      const hexName = img.layers[0]!.digest.slice(7);
      const at = archive.indexOf(Buffer.from('etc/passwd'), archive.indexOf(Buffer.from(`blobs/sha256/${hexName}`)) + 512);
      archive[at] = 'E'.charCodeAt(0); // same size, different bytes
      await expectRefused(archive, /digest mismatch/);
    });
    it('a manifest naming a missing blob', async () => {
      const archive = await packTar([
        { type: 'file', path: 'manifest.json', content: JSON.stringify([{ Config: 'nope.json', RepoTags: ['x:1'], Layers: [] }]) },
      ]);
      await expectRefused(archive, /names config "nope.json", which is not in the archive/);
    });
    it('an unknown media type', async () => {
      const img = await busyboxImage();
      const m = JSON.parse(img.manifest.toString());
      m.layers[0].mediaType = 'application/x-strange';
      img.manifest = Buffer.from(JSON.stringify(m));
      img.manifestDigest = sha256(img.manifest);
      await expectRefused(await ociArchive([img]), /unsupported media type "application\/x-strange"/);
    });
    it('a huge manifest.json', async () => {
      const archive = await packTar([{ type: 'file', path: 'manifest.json', content: Buffer.alloc(5 * 1024 * 1024, 0x20) }]);
      await expectRefused(archive, /manifest.json is 5242880 bytes, larger than the 4194304-byte cap/);
    });
    it.each([
      ['../evil', /path traversal/],
      ['/etc/evil', /absolute path/],
      ['blobs/../../evil', /path traversal/],
    ])('a traversal name %s', async (name, pattern) => {
      const archive = await packTar([{ type: 'raw', header: { name, type: 'file' } as never, content: Buffer.from('x') }]);
      await expectRefused(archive, pattern);
    });
    it('a symlinked blob path', async () => {
      const archive = await packTar([{ type: 'symlink', path: `blobs/sha256/${'a'.repeat(64)}`, target: '/etc/shadow' }]);
      await expectRefused(archive, /may not stand for a blob/);
    });
    it('an invalid name', async () => {
      await expectRefused(await dockerArchive([{ ...busybox, name: 'UPPER/case:x' }]), /invalid image reference "UPPER\/case:x"/);
    });
    it('a rootfs import without a name', async () => {
      await expectRefused(await packTar([{ type: 'file', path: 'a', content: 'a' }]), /needs a name/, { format: 'rootfs' });
    });
    it('a rootfs tarball with ".."', async () => {
      const archive = await packTar([{ type: 'raw', header: { name: '../escape', type: 'file' } as never, content: Buffer.from('x') }]);
      await expectRefused(archive, /path traversal/, { format: 'rootfs', name: 'x' });
    });
  });
});
