// The built image-store process driven over gRPC: import (archives from our builders and from skopeo),
// records, GC, usage, events on NATS, content writes, export read back by skopeo, and every bad input.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { contentV1, imagesV1 } from '@berth/api';
import { buildImage, busyboxImage, dockerArchive, ociArchive, packTar, sha256, type BuiltImage } from '@berth/testing';
import { startHarness, type Harness } from './harness';

jest.setTimeout(60_000);

describe('image-store service (e2e)', () => {
  let h: Harness;
  let tmp: string;
  let busybox: BuiltImage;

  beforeAll(async () => {
    h = await startHarness();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-store-e2e-'));
    busybox = await busyboxImage('busybox:latest', 'gzip');
  });
  afterAll(async () => {
    await h?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const get = (reference: string) => h.unary<imagesV1.GetImageRequest, imagesV1.GetImageResponse>(h.images, 'get', { reference });
  const del = (reference: string, force = false) => h.unary<imagesV1.DeleteImageRequest, imagesV1.DeleteImageResponse>(h.images, 'delete', { reference, force });
  const listBlobs = async () => (await h.unary<contentV1.ListContentRequest, contentV1.ListContentResponse>(h.content, 'list', {})).blobs;

  it('imports an OCI layout archive and resolves it by name, id and id prefix; events carry the envelope JSON', async () => {
    const res = await h.importArchive(await ociArchive([busybox]));
    expect(res.images.map((i) => i.name)).toEqual(['docker.io/library/busybox:latest']);
    expect(res.blobsWritten).toBe(3);
    const byName = await get('busybox');
    expect(byName.resolved!.id).toBe(busybox.configDigest);
    expect(byName.resolved!.layers.map((l) => l.digest)).toEqual([busybox.layers[0]!.digest]);
    expect(byName.resolved!.diffIds).toEqual([busybox.layers[0]!.diffId]);
    expect(JSON.parse(byName.resolved!.configJson.toString()).config.Cmd).toEqual(['sh']);
    expect((await get(busybox.configDigest)).image!.name).toBe('docker.io/library/busybox:latest');
    expect((await get(busybox.configDigest.slice(7, 19))).image!.name).toBe('docker.io/library/busybox:latest');
    // The local blob path layout rootfs may read directly.
    const layerFile = path.join(h.stateDir, 'blobs', 'sha256', busybox.layers[0]!.digest.slice(7));
    expect(sha256(fs.readFileSync(layerFile))).toBe(busybox.layers[0]!.digest);
    const created = await h.waitForEvent((e) => e.topic === 'image.create');
    expect(created).toMatchObject({
      topic: 'image.create',
      source: 'image-store',
      subjectId: 'docker.io/library/busybox:latest',
      image: { name: 'docker.io/library/busybox:latest', targetDigest: busybox.manifestDigest },
    });
    const blobEvent = await h.waitForEvent((e) => e.topic === 'content.create' && e.subjectId === busybox.layers[0]!.digest);
    expect(blobEvent.content).toMatchObject({ digest: busybox.layers[0]!.digest });
    expect(Number(blobEvent.content!.size)).toBe(busybox.layers[0]!.blob.length);
  });

  it('imports a docker-archive converted by skopeo from an OCI archive', async () => {
    const oci = path.join(tmp, 'bb-oci.tar');
    const docker = path.join(tmp, 'bb-docker.tar');
    fs.writeFileSync(oci, await ociArchive([await busyboxImage('busybox:skopeo')]));
    execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', `oci-archive:${oci}`, `docker-archive:${docker}:busybox:skopeo`]);
    const res = await h.importArchive(fs.readFileSync(docker));
    expect(res.images.map((i) => i.name)).toEqual(['docker.io/library/busybox:skopeo']);
    const got = await get('busybox:skopeo');
    expect(got.resolved!.diffIds).toEqual([busybox.layers[0]!.diffId]);
    expect(got.resolved!.layers).toHaveLength(1);
  });

  it('imports an OCI layout made by umoci, and exports one umoci unpacks', async () => {
    const dir = path.join(tmp, 'umoci');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'hello.txt');
    fs.writeFileSync(file, 'made by umoci\n');
    const layout = path.join(dir, 'layout');
    execFileSync('umoci', ['init', '--layout', layout]);
    execFileSync('umoci', ['new', '--image', `${layout}:v1`]);
    execFileSync('umoci', ['insert', '--image', `${layout}:v1`, file, '/etc/hello.txt']);
    execFileSync('umoci', ['config', '--image', `${layout}:v1`, '--config.cmd', 'cat', '--config.cmd', '/etc/hello.txt']);
    const archive = execFileSync('tar', ['-C', layout, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    // umoci names the entry only by tag ("v1"): the import options give the repository.
    const res = await h.importArchive(archive, { name: 'umoci/hello' });
    expect(res.images.map((i) => i.name)).toEqual(['docker.io/umoci/hello:v1']);
    const got = await get('umoci/hello:v1');
    expect(JSON.parse(got.resolved!.configJson.toString()).config.Cmd).toEqual(['cat', '/etc/hello.txt']);

    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    execFileSync('tar', ['-C', out, '-xf', '-'], { input: await h.exportArchive(['umoci/hello:v1'], 'oci-archive') });
    execFileSync('umoci', ['unpack', '--image', `${out}:v1`, path.join(dir, 'bundle')]);
    expect(fs.readFileSync(path.join(dir, 'bundle', 'rootfs', 'etc', 'hello.txt'), 'utf8')).toBe('made by umoci\n');
    await del('umoci/hello:v1');
  });

  it('stores a shared layer once, reports usage, and collects only unshared blobs on delete', async () => {
    const base = [{ type: 'file' as const, path: 'shared.bin', content: Buffer.alloc(100_000, 1) }];
    const a = await buildImage({ name: 'shared/a:1', layers: [base, [{ type: 'file', path: 'a', content: 'a' }]] });
    const b = await buildImage({ name: 'shared/b:1', layers: [base, [{ type: 'file', path: 'b', content: 'b' }]] });
    await h.importArchive(await dockerArchive([a]));
    const before = (await listBlobs()).length;
    await h.importArchive(await dockerArchive([b]));
    expect((await listBlobs()).length).toBe(before + 3); // b's own layer, config, manifest; the base is shared
    const usage = await h.unary<imagesV1.UsageRequest, imagesV1.UsageResponse>(h.images, 'usage', {});
    expect(usage.sharedBytes).toBeGreaterThanOrEqual(a.layers[0]!.tar.length);
    expect(usage.images.find((i) => i.id === a.configDigest)).toMatchObject({ sharedSize: a.layers[0]!.tar.length, names: ['docker.io/shared/a:1'] });
    const info = await h.unary<contentV1.InfoRequest, contentV1.InfoResponse>(h.content, 'info', { digest: a.layers[0]!.diffId });
    expect(info.info!.references).toBe(2);
    // In use: Content.Delete refuses.
    await expect(h.unary(h.content, 'delete', { digest: a.layers[0]!.diffId })).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });

    const res = await del('shared/a:1');
    expect(res.untagged).toEqual(['docker.io/shared/a:1']);
    expect(res.deleted).toHaveLength(3);
    expect(res.deleted).not.toContain(a.layers[0]!.diffId);
    expect(h.snapshot().blobs).toContain(a.layers[0]!.diffId.slice(7));
    await h.waitForEvent((e) => e.topic === 'image.delete' && e.subjectId === 'docker.io/shared/a:1');
    await h.waitForEvent((e) => e.topic === 'content.delete' && e.subjectId === a.configDigest);
    await del('shared/b:1');
    expect(h.snapshot().blobs).not.toContain(a.layers[0]!.diffId.slice(7));
    await expect(get('shared/b:1')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such image: shared/b:1' });
  });

  it('tags, refuses an ambiguous delete by id, and deletes all names with force', async () => {
    const tagged = await h.unary<imagesV1.TagImageRequest, imagesV1.Image>(h.images, 'tag', { source: 'busybox:latest', target: 'localhost:5000/bb:v1' });
    expect(tagged.name).toBe('localhost:5000/bb:v1');
    await h.waitForEvent((e) => e.topic === 'image.tag' && e.subjectId === 'localhost:5000/bb:v1');
    expect((await get('localhost:5000/bb:v1')).resolved!.names.sort()).toEqual(['docker.io/library/busybox:latest', 'localhost:5000/bb:v1']);
    const list = (filter: string) =>
      h.unary<imagesV1.ListImagesRequest, imagesV1.ListImagesResponse>(h.images, 'list', { filter }).then((r) => r.images.map((i) => i.image!.name).sort());
    expect(await list('localhost:5000/')).toEqual(['localhost:5000/bb:v1']);
    expect(await list('busybox')).toEqual(['docker.io/library/busybox:latest', 'docker.io/library/busybox:skopeo']);
    expect(await list('busybox:skopeo')).toEqual(['docker.io/library/busybox:skopeo']);
    await expect(del(busybox.configDigest)).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await expect(h.unary(h.images, 'tag', { source: 'busybox', target: 'Bad Name' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('invalid image reference "Bad Name"'),
    });
    // busybox:skopeo has the same config, so the same id: force removes all three names.
    const res = await del(busybox.configDigest, true);
    expect(res.untagged.sort()).toEqual(['docker.io/library/busybox:latest', 'docker.io/library/busybox:skopeo', 'localhost:5000/bb:v1']);
    expect(res.deleted).toContain(busybox.layers[0]!.digest);
    await expect(get('busybox:skopeo')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('writes content over gRPC, resumes a broken write from Status, and refuses a wrong digest', async () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
    const digest = sha256(data);
    const write = (start: contentV1.WriteStart, chunks: Buffer[], cancelAfter = false) =>
      new Promise<contentV1.WriteContentResponse>((resolve, reject) => {
        const call = h.content.write((err, res) => (err ? reject(err) : resolve(res!)));
        call.write({ part: { $case: 'start', value: start } });
        for (const c of chunks) call.write({ part: { $case: 'data', value: c } });
        if (cancelAfter) setTimeout(() => call.cancel(), 300);
        else call.end();
      });
    await expect(write({ ref: 'r1', expectedDigest: digest, expectedSize: data.length, offset: 0 }, [data.subarray(0, 100_000)], true)).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    let st: contentV1.WriteStatusResponse | undefined;
    for (let i = 0; i < 50 && !st; i++) {
      st = await h.unary<contentV1.WriteStatusRequest, contentV1.WriteStatusResponse>(h.content, 'status', { ref: 'r1' }).catch(() => undefined);
      if (!st) await new Promise((r) => setTimeout(r, 20));
    }
    expect(st).toMatchObject({ ref: 'r1', expectedDigest: digest });
    expect(st!.offset).toBeGreaterThan(0);
    expect(st!.offset).toBeLessThanOrEqual(100_000);
    // The server notices the cancel a moment later; until then the ref is busy (ABORTED, retryable).
    let res: contentV1.WriteContentResponse | undefined;
    for (let i = 0; i < 100 && !res; i++) {
      const offset = (await h.unary<contentV1.WriteStatusRequest, contentV1.WriteStatusResponse>(h.content, 'status', { ref: 'r1' })).offset;
      res = await write({ ref: 'r1', expectedDigest: digest, expectedSize: data.length, offset }, [data.subarray(offset)]).catch((e: grpc.ServiceError) => {
        if (e.code !== grpc.status.ABORTED) throw e;
        return undefined;
      });
      if (!res) await new Promise((r) => setTimeout(r, 20));
    }
    expect(res).toEqual({ digest, size: data.length, alreadyExisted: false });
    const chunks: Buffer[] = [];
    for await (const m of h.content.read({ digest, offset: 1000, size: 0 }) as AsyncIterable<contentV1.ReadContentResponse>) {
      expect(m.data.length).toBeLessThanOrEqual(64 * 1024);
      chunks.push(m.data);
    }
    expect(Buffer.concat(chunks)).toEqual(data.subarray(1000));

    const before = h.snapshot();
    await expect(write({ ref: 'r2', expectedDigest: sha256('other'), expectedSize: -1, offset: 0 }, [Buffer.from('not other')])).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: expect.stringContaining('digest mismatch'),
    });
    expect(h.snapshot()).toEqual(before);
    await expect(h.unary(h.content, 'info', { digest: sha256('other') })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(h.unary(h.content, 'status', { ref: 'r2' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await h.unary(h.content, 'delete', { digest });
  });

  it('exports docker-archive and OCI archives that skopeo reads', async () => {
    const img = await busyboxImage('export/bb:1', 'gzip', { cmd: ['echo', 'hi'] });
    await h.importArchive(await ociArchive([img]));
    const dockerFile = path.join(tmp, 'export-docker.tar');
    const ociFile = path.join(tmp, 'export-oci.tar');
    fs.writeFileSync(dockerFile, await h.exportArchive(['export/bb:1'], 'docker-archive'));
    fs.writeFileSync(ociFile, await h.exportArchive(['export/bb:1'], 'oci-archive'));
    const fromDocker = JSON.parse(execFileSync('skopeo', ['--insecure-policy', 'inspect', '--config', `docker-archive:${dockerFile}`], { encoding: 'utf8' }));
    expect(fromDocker.config.Cmd).toEqual(['echo', 'hi']);
    expect(fromDocker.rootfs.diff_ids).toEqual([img.layers[0]!.diffId]);
    const fromOci = JSON.parse(execFileSync('skopeo', ['--insecure-policy', 'inspect', `oci-archive:${ociFile}`], { encoding: 'utf8' }));
    expect(fromOci.Layers).toEqual([img.layers[0]!.digest]);
    expect(fromOci.Digest).toBe(img.manifestDigest);
    // And the exported docker-archive comes back in with the same image id.
    await del('export/bb:1');
    const back = await h.importArchive(fs.readFileSync(dockerFile));
    expect(back.images.map((i) => i.name)).toEqual(['docker.io/export/bb:1']);
    expect((await get('export/bb:1')).resolved!.id).toBe(img.configDigest);
    await expect(h.exportArchive(['no/such:image'], 'oci-archive')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('imports a rootfs tarball with config changes', async () => {
    const rootfs = await packTar([{ type: 'dir', path: 'etc/' }, { type: 'file', path: 'etc/motd', content: 'hi\n' }]);
    const res = await h.importArchive(rootfs, { format: 'rootfs', name: 'rootfs/imported:1', changes: ['ENTRYPOINT ["/bin/sh"]', 'ENV X=1'], message: 'from a tarball' });
    expect(res.images[0]!.name).toBe('docker.io/rootfs/imported:1');
    const cfg = JSON.parse((await get('rootfs/imported:1')).resolved!.configJson.toString());
    expect(cfg.config.Entrypoint).toEqual(['/bin/sh']);
    expect(cfg.rootfs.diff_ids).toEqual([sha256(rootfs)]);
    await expect(h.importArchive(rootfs, { format: 'rootfs', name: 'x:1', changes: ['FROM scratch'] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('unsupported instruction FROM'),
    });
  });

  it('creates a record for blobs a client wrote itself (docker commit), refusing a missing blob', async () => {
    const img = await buildImage({ name: 'committed:1', layers: [[{ type: 'file', path: 'c', content: 'committed' }]] }, 'gzip');
    const upload = (data: Buffer) =>
      new Promise<contentV1.WriteContentResponse>((resolve, reject) => {
        const call = h.content.write((err, res) => (err ? reject(err) : resolve(res!)));
        call.write({ part: { $case: 'start', value: { ref: `commit-${sha256(data)}`, expectedDigest: sha256(data), expectedSize: data.length, offset: 0 } } });
        call.write({ part: { $case: 'data', value: data } });
        call.end();
      });
    const target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifestDigest, size: img.manifest.length, annotations: {} };
    await upload(img.manifest);
    await upload(img.config);
    await expect(h.unary(h.images, 'create', { name: 'committed:1', target, labels: {} })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining(`names layer ${img.layers[0]!.digest}, which is not stored`),
    });
    await upload(img.layers[0]!.blob);
    const rec = await h.unary<imagesV1.CreateImageRequest, imagesV1.Image>(h.images, 'create', { name: 'committed:1', target, labels: { from: 'commit' } });
    expect(rec).toMatchObject({ name: 'docker.io/library/committed:1', labels: { from: 'commit' } });
    expect((await get('committed:1')).resolved!.diffIds).toEqual([img.layers[0]!.diffId]);
    await h.waitForEvent((e) => e.topic === 'image.create' && e.subjectId === 'docker.io/library/committed:1');
  });

  it('keeps blobs and records across a restart', async () => {
    const before = (await h.unary<imagesV1.ListImagesRequest, imagesV1.ListImagesResponse>(h.images, 'list', { filter: '' })).images.map((i) => i.image!.name);
    expect(before.length).toBeGreaterThan(0);
    const blobs = h.snapshot().blobs;
    await h.restart();
    const after = (await h.unary<imagesV1.ListImagesRequest, imagesV1.ListImagesResponse>(h.images, 'list', { filter: '' })).images.map((i) => i.image!.name);
    expect(after).toEqual(before);
    expect(h.snapshot().blobs).toEqual(blobs);
    expect((await listBlobs()).map((b) => b.digest.slice(7)).sort()).toEqual(blobs);
  });

  describe('bad input: a clear status and nothing left behind', () => {
    async function refused(data: Buffer, code: grpc.status, detail: RegExp, options: Partial<imagesV1.ImportOptions> = {}) {
      const before = h.snapshot();
      const names = (await h.unary<imagesV1.ListImagesRequest, imagesV1.ListImagesResponse>(h.images, 'list', { filter: '' })).images.map((i) => i.image!.name);
      const err = (await h.importArchive(data, options).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      )) as grpc.ServiceError | undefined;
      expect(err).toBeDefined();
      expect(err!.code).toBe(code);
      expect(err!.details).toMatch(detail);
      expect(h.snapshot()).toEqual(before);
      const after = (await h.unary<imagesV1.ListImagesRequest, imagesV1.ListImagesResponse>(h.images, 'list', { filter: '' })).images.map((i) => i.image!.name);
      expect(after).toEqual(names);
    }
    let fresh: BuiltImage;
    beforeAll(async () => {
      fresh = await buildImage({ name: 'bad/input:1', layers: [[{ type: 'file', path: 'unique.txt', content: 'only in the bad tests' }]] }, 'gzip');
    });

    it('truncated tar', async () => {
      const full = await dockerArchive([fresh]);
      await refused(full.subarray(0, full.length - 1500), grpc.status.INVALID_ARGUMENT, /truncated/);
    });
    it('corrupt tar', async () => {
      const full = Buffer.from(await ociArchive([fresh]));
      full.fill(0x7a, 2048, 2600);
      await refused(full, grpc.status.INVALID_ARGUMENT, /truncated or not a tar|digest mismatch/);
    });
    it('wrong layer digest', async () => {
      const bad = { ...fresh, config: Buffer.from(JSON.stringify({ ...JSON.parse(fresh.config.toString()), rootfs: { type: 'layers', diff_ids: [sha256('x')] } })) };
      bad.configDigest = sha256(bad.config);
      await refused(await dockerArchive([bad]), grpc.status.INVALID_ARGUMENT, /does not match diff id/);
    });
    it('manifest naming a missing blob', async () => {
      const archive = await ociArchive([fresh]);
      const stripped = await packTar([
        { type: 'file', path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
        { type: 'file', path: 'index.json', content: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: fresh.manifestDigest, size: fresh.manifest.length, annotations: { 'io.containerd.image.name': 'bad/input:1' } }] }) },
        { type: 'file', path: `blobs/sha256/${fresh.manifestDigest.slice(7)}`, content: fresh.manifest },
        { type: 'file', path: `blobs/sha256/${fresh.configDigest.slice(7)}`, content: fresh.config },
      ]);
      expect(archive.length).toBeGreaterThan(stripped.length);
      await refused(stripped, grpc.status.INVALID_ARGUMENT, new RegExp(`names layer ${fresh.layers[0]!.digest}, which is not stored`));
    });
    it('unknown media type', async () => {
      const m = JSON.parse(fresh.manifest.toString());
      m.config.mediaType = 'application/x-unknown';
      const img = { ...fresh, manifest: Buffer.from(JSON.stringify(m)) };
      img.manifestDigest = sha256(img.manifest);
      await refused(await ociArchive([img]), grpc.status.INVALID_ARGUMENT, /unsupported media type "application\/x-unknown"/);
    });
    it('huge manifest', async () => {
      const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', pad: 'x'.repeat(5 << 20) }));
      const archive = await packTar([
        { type: 'file', path: 'index.json', content: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(huge), size: huge.length, annotations: { 'io.containerd.image.name': 'huge:1' } }] }) },
        { type: 'file', path: `blobs/sha256/${sha256(huge).slice(7)}`, content: huge },
      ]);
      await refused(archive, grpc.status.INVALID_ARGUMENT, /larger than the 4194304-byte cap/);
    });
    it('path traversal names', async () => {
      await refused(await packTar([{ type: 'raw', header: { name: '../../etc/passwd', type: 'file' } as never, content: Buffer.from('x') }]), grpc.status.INVALID_ARGUMENT, /path traversal/);
      await refused(await packTar([{ type: 'raw', header: { name: '/abs/manifest.json', type: 'file' } as never, content: Buffer.from('x') }]), grpc.status.INVALID_ARGUMENT, /absolute path/);
      await refused(await packTar([{ type: 'symlink', path: 'blobs/sha256/' + 'b'.repeat(64), target: '../../../etc/shadow' }]), grpc.status.INVALID_ARGUMENT, /may not stand for a blob/);
    });
    it('invalid reference', async () => {
      await refused(await dockerArchive([{ ...fresh, name: 'Invalid:Name:x' }]), grpc.status.INVALID_ARGUMENT, /invalid image reference "Invalid:Name:x"/);
      await expect(get('Not A Name')).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('"Not A Name"') });
    });
    it('an import the client cancels half way', async () => {
      const before = h.snapshot();
      const data = await dockerArchive([fresh]);
      const done = new Promise<grpc.ServiceError>((resolve) => {
        const call = h.images.import((err) => resolve(err!));
        call.write({ part: { $case: 'options', value: { format: '', name: '', changes: [], message: '' } } });
        call.write({ part: { $case: 'data', value: data.subarray(0, Math.floor(data.length / 2)) } });
        setTimeout(() => call.cancel(), 200);
      });
      expect((await done).code).toBe(grpc.status.CANCELLED);
      // The service notices the cancel on its side and drops what it staged.
      for (let i = 0; i < 100 && JSON.stringify(h.snapshot()) !== JSON.stringify(before); i++) await new Promise((r) => setTimeout(r, 20));
      expect(h.snapshot()).toEqual(before);
      await expect(get('bad/input:1')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    });
    it('not an archive at all', async () => {
      await refused(Buffer.from('hello, this is not a tar file'), grpc.status.INVALID_ARGUMENT, /truncated or not a tar|neither/);
    });
  });
});
