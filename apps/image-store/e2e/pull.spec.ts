// Pull from a real registry (Debian's docker-registry on 127.0.0.1, images pushed by skopeo).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { imagesV1 } from '@berth/api';
import { buildImage, busyboxImage, ociArchive, packTar, sha256, type BuiltImage } from '@berth/testing';
import { startHarness, type Harness } from './harness';
import { startFront, startRegistry, type RegistryFront, type TestRegistry } from './registry';

jest.setTimeout(90_000);

describe('Images.Pull from a registry (e2e)', () => {
  let h: Harness;
  let reg: TestRegistry;
  let front: RegistryFront;
  let tmp: string;
  let busybox: BuiltImage;
  let multi: BuiltImage;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-store-pull-'));
    reg = await startRegistry();
    front = await startFront(reg.host, { user: 'berth', password: 's3cret' });
    h = await startHarness();
    busybox = await busyboxImage('busybox:latest', 'gzip');
    const file = path.join(tmp, 'bb.tar');
    fs.writeFileSync(file, await ociArchive([busybox]));
    reg.push(file, 'busybox:latest');
    // Incompressible, so a download can be cut part way.
    const big = [{ type: 'file' as const, path: 'big.bin', content: randomBytes(3 << 20) }];
    multi = await buildImage({ name: 'multi:1', layers: [[{ type: 'file', path: 'marker', content: 'm' }], big, [{ type: 'file', path: 'top', content: 'top' }]] }, 'gzip');
    const mf = path.join(tmp, 'multi.tar');
    fs.writeFileSync(mf, await ociArchive([multi]));
    reg.push(mf, 'busybox:multi');
  });
  afterAll(async () => {
    await h?.close();
    await front?.stop();
    await reg?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const get = (reference: string) => h.unary<imagesV1.GetImageRequest, imagesV1.GetImageResponse>(h.images, 'get', { reference });

  it('pulls an image over plain HTTP from a loopback registry, streaming progress, then skips what is stored', async () => {
    const events = await h.pull({ reference: `${reg.host}/busybox:latest` });
    const first = events[0]!.event!;
    expect(first.$case).toBe('resolved');
    if (first.$case === 'resolved') expect(first.value.blobs.map((b) => b.digest)).toEqual([busybox.configDigest, busybox.layers[0]!.digest]);
    const layerEvents = events.flatMap((e) => (e.event?.$case === 'blob' && e.event.value.digest === busybox.layers[0]!.digest ? [e.event.value] : []));
    expect(layerEvents.map((e) => e.status)).toEqual(expect.arrayContaining(['downloading', 'verifying', 'done']));
    expect(layerEvents[layerEvents.length - 1]).toMatchObject({ offset: busybox.layers[0]!.blob.length, total: busybox.layers[0]!.blob.length, status: 'done' });
    const last = events[events.length - 1]!.event!;
    expect(last.$case).toBe('done');
    const got = await get(`${reg.host}/busybox:latest`);
    expect(got.resolved!.id).toBe(busybox.configDigest);
    expect(got.resolved!.diffIds).toEqual([busybox.layers[0]!.diffId]);
    await h.waitForEvent((e) => e.topic === 'image.create' && e.subjectId === `${reg.host}/busybox:latest`);

    const again = await h.pull({ reference: `${reg.host}/busybox:latest` });
    const statuses = again.flatMap((e) => (e.event?.$case === 'blob' ? [e.event.value.status] : []));
    expect(statuses).toEqual(['exists', 'exists']);
  });

  it('pulls an image with Docker schema 2 media types', async () => {
    const file = path.join(tmp, 'bb.tar');
    reg.push(file, 'busybox:v2s2', false, 'v2s2');
    const events = await h.pull({ reference: `${reg.host}/busybox:v2s2` });
    expect(events[events.length - 1]!.event!.$case).toBe('done');
    const got = await get(`${reg.host}/busybox:v2s2`);
    expect(got.image!.target!.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(got.resolved!.config!.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(got.resolved!.layers.map((l) => l.mediaType)).toEqual(['application/vnd.docker.image.rootfs.diff.tar.gzip']);
    expect(got.resolved!.diffIds).toEqual([busybox.layers[0]!.diffId]);
    // And it exports as an OCI archive skopeo reads, Docker media types and all.
    const out = path.join(tmp, 'v2s2-oci.tar');
    fs.writeFileSync(out, await h.exportArchive([`${reg.host}/busybox:v2s2`], 'oci-archive'));
    const inspected = JSON.parse(execFileSync('skopeo', ['--insecure-policy', 'inspect', `oci-archive:${out}`], { encoding: 'utf8' }));
    expect(inspected.Layers).toEqual([busybox.layers[0]!.digest]);
  });

  it('pulls a multi-layer image, fetching layers concurrently, and checks diff ids', async () => {
    const events = await h.pull({ reference: `${reg.host}/busybox:multi` });
    expect(events[events.length - 1]!.event!.$case).toBe('done');
    const got = await get(`${reg.host}/busybox:multi`);
    expect(got.resolved!.diffIds).toEqual(multi.layers.map((l) => l.diffId));
    expect(got.resolved!.layers.map((l) => l.digest)).toEqual(multi.layers.map((l) => l.digest));
    for (const l of multi.layers) expect(fs.existsSync(path.join(h.stateDir, 'blobs', 'sha256', l.digest.slice(7)))).toBe(true);
  });

  it('resolves an index to linux/amd64', async () => {
    const amd = await buildImage({ name: 'multiarch:1', layers: [[{ type: 'file', path: 'arch', content: 'amd64' }]], cmd: ['amd64'] }, 'gzip');
    const arm = await buildImage({ name: 'multiarch:1', layers: [[{ type: 'file', path: 'arch', content: 'arm64' }]], cmd: ['arm64'] }, 'gzip');
    const armCfg = JSON.parse(arm.config.toString());
    armCfg.architecture = 'arm64';
    arm.config = Buffer.from(JSON.stringify(armCfg));
    const armManifest = JSON.parse(arm.manifest.toString());
    armManifest.config = { ...armManifest.config, digest: sha256(arm.config), size: arm.config.length };
    arm.manifest = Buffer.from(JSON.stringify(armManifest));
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(arm.manifest), size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: amd.manifestDigest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        ],
      }),
    );
    const blobs = new Map<string, Buffer>([
      [sha256(index), index],
      [amd.manifestDigest, amd.manifest],
      [amd.configDigest, amd.config],
      [amd.layers[0]!.digest, amd.layers[0]!.blob],
      [sha256(arm.manifest), arm.manifest],
      [sha256(arm.config), arm.config],
      [arm.layers[0]!.digest, arm.layers[0]!.blob],
    ]);
    const file = path.join(tmp, 'index.tar');
    fs.writeFileSync(
      file,
      await packTar([
        { type: 'file', path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
        {
          type: 'file',
          path: 'index.json',
          content: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(index), size: index.length }] }),
        },
        ...[...blobs].map(([d, b]) => ({ type: 'file' as const, path: `blobs/sha256/${d.slice(7)}`, content: b })),
      ]),
    );
    reg.push(file, 'busybox:multiarch', true);
    const events = await h.pull({ reference: `${reg.host}/busybox:multiarch` });
    const resolved = events[0]!.event!;
    if (resolved.$case !== 'resolved') throw new Error('first event is not resolved');
    expect(resolved.value.manifest!.digest).toBe(amd.manifestDigest);
    const got = await get(`${reg.host}/busybox:multiarch`);
    expect(got.image!.target!.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(got.resolved!.manifest!.digest).toBe(amd.manifestDigest);
    expect(JSON.parse(got.resolved!.configJson.toString()).config.Cmd).toEqual(['amd64']);
    expect(fs.existsSync(path.join(h.stateDir, 'blobs', 'sha256', arm.layers[0]!.digest.slice(7)))).toBe(false);

    // Another platform on request; the record then resolves to it.
    await h.pull({ reference: `${reg.host}/busybox:multiarch`, platform: 'linux/arm64' });
    const armGot = await get(`${reg.host}/busybox:multiarch`);
    expect(armGot.resolved!.manifest!.digest).toBe(sha256(arm.manifest));
    expect(JSON.parse(armGot.resolved!.configJson.toString()).architecture).toBe('arm64');
    expect(fs.existsSync(path.join(h.stateDir, 'blobs', 'sha256', amd.layers[0]!.digest.slice(7)))).toBe(false);
    await expect(h.pull({ reference: `${reg.host}/busybox:multiarch`, platform: 'linux/s390x' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringContaining('no manifest for platform linux/s390x'),
    });
  });

  it('gets a bearer token with basic credentials, and resumes a download that broke off', async () => {
    const name = `${front.host}/busybox:multi`;
    await expect(h.pull({ reference: name, insecureRegistries: [front.host] })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    // Start clean, so the layers are fetched through the front.
    await h.unary(h.images, 'delete', { reference: `${reg.host}/busybox:multi`, force: false });
    const big = multi.layers[1]!;
    front.cutNext(big.digest, 100_000);
    const before = h.snapshot();
    await expect(h.pull({ reference: name, username: 'berth', password: 's3cret' })).rejects.toMatchObject({ code: expect.any(Number) });
    // The broken download keeps its bytes under its ref; no committed blob of the failed pull remains.
    const after = h.snapshot();
    expect(after.blobs).toEqual(before.blobs);
    // The cut download (and any aborted alongside it) stays under its ref, to be resumed.
    expect(after.ingest.length).toBeGreaterThanOrEqual(1);
    const events = await h.pull({ reference: name, username: 'berth', password: 's3cret' });
    const firstBig = events.find((e) => e.event?.$case === 'blob' && e.event.value.digest === big.digest);
    expect(firstBig!.event).toMatchObject({ $case: 'blob', value: { status: 'downloading' } });
    if (firstBig!.event!.$case === 'blob') expect(firstBig!.event!.value.offset).toBeGreaterThan(0);
    expect(front.log.some((l) => l.startsWith('GET /token'))).toBe(true);
    expect(front.log.some((l) => l.includes(big.digest) && l.includes('bytes='))).toBe(true);
    expect(h.snapshot().ingest).toEqual([]);
    expect((await get(name)).resolved!.diffIds).toEqual(multi.layers.map((l) => l.diffId));
  });

  it('sends basic credentials when the registry asks for them, and refuses wrong ones', async () => {
    const basicFront = await startFront(reg.host, { user: 'u', password: 'p', scheme: 'basic' });
    try {
      const name = `${basicFront.host}/busybox:latest`;
      await expect(h.pull({ reference: name, username: 'u', password: 'wrong' })).rejects.toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
        details: expect.stringContaining('refused access'),
      });
      const events = await h.pull({ reference: name, username: 'u', password: 'p' });
      expect(events[events.length - 1]!.event!.$case).toBe('done');
      expect(basicFront.log.filter((l) => l.startsWith('GET /v2/busybox/manifests/latest')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await basicFront.stop();
    }
  });

  it('lets two concurrent pulls of one image fetch each layer once', async () => {
    await h.unary(h.images, 'delete', { reference: `${front.host}/busybox:multi`, force: false });
    const before = front.log.length;
    const name = `${front.host}/busybox:multi`;
    const [a, b] = await Promise.all([h.pull({ reference: name, username: 'berth', password: 's3cret' }), h.pull({ reference: name, username: 'berth', password: 's3cret' })]);
    expect(a[a.length - 1]!.event!.$case).toBe('done');
    expect(b[b.length - 1]!.event!.$case).toBe('done');
    const blobGets = front.log.slice(before).filter((l) => l.includes(multi.layers[1]!.digest));
    expect(blobGets).toHaveLength(1);
    expect(h.snapshot().ingest).toEqual([]);
  });

  it('refuses a layer whose bytes do not match its digest and keeps nothing of it', async () => {
    const img = await buildImage({ name: 'corrupt:1', layers: [[{ type: 'file', path: 'data', content: randomBytes(200_000) }]] }, 'gzip');
    const file = path.join(tmp, 'corrupt.tar');
    fs.writeFileSync(file, await ociArchive([img]));
    reg.push(file, 'busybox:corrupt');
    front.corruptNext(img.layers[0]!.digest);
    const before = h.snapshot();
    await expect(h.pull({ reference: `${front.host}/busybox:corrupt`, username: 'berth', password: 's3cret' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining(`digest mismatch: expected ${img.layers[0]!.digest}`),
    });
    expect(h.snapshot()).toEqual(before);
    await expect(get(`${front.host}/busybox:corrupt`)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('stops a pull the client cancels and keeps nothing of it', async () => {
    const img = await buildImage({ name: 'stalled:1', layers: [[{ type: 'file', path: 's', content: randomBytes(50_000) }], [{ type: 'file', path: 't', content: 'small' }]] }, 'gzip');
    const file = path.join(tmp, 'stalled.tar');
    fs.writeFileSync(file, await ociArchive([img]));
    reg.push(file, 'busybox:stalled');
    front.stallNext(img.layers[0]!.digest);
    const before = h.snapshot();
    const call = h.images.pull({ reference: `${front.host}/busybox:stalled`, insecureRegistries: [], username: 'berth', password: 's3cret', platform: '' });
    const seen: string[] = [];
    const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', (m: imagesV1.PullProgress) => {
      seen.push(m.event?.$case === 'blob' ? `${m.event.value.digest}:${m.event.value.status}` : m.event!.$case);
      // Everything but the stalled layer is done: cancel.
      if (seen.filter((x) => x.endsWith(':done')).length === 2) call.cancel();
    });
    expect((await ended).code).toBe(grpc.status.CANCELLED);
    // The service aborts the download and releases what the pull had committed (config, small layer).
    for (let i = 0; i < 100 && JSON.stringify(h.snapshot()) !== JSON.stringify(before); i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.snapshot()).toEqual(before);
    await expect(get(`${front.host}/busybox:stalled`)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('names a missing tag with NOT_FOUND and changes nothing', async () => {
    const before = h.snapshot();
    await expect(h.pull({ reference: `${reg.host}/busybox:nope` })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: `${reg.host}/busybox:nope: not found in registry ${reg.host}`,
    });
    await expect(h.pull({ reference: `${reg.host}/nosuchrepo:latest` })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(h.pull({ reference: 'Bad//Ref' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('"Bad//Ref"') });
    expect(h.snapshot()).toEqual(before);
  });
});
