// Push to a real registry (Debian's docker-registry on 127.0.0.1), then pull back into a fresh store.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { imagesV1 } from '@berth/api';
import { buildImage, busyboxImage, busyboxLayerEntries, freePort, ociArchive, type BuiltImage } from '@berth/testing';
import { startHarness, type Harness } from './harness';
import { startFront, startRegistry, type TestRegistry } from './registry';

jest.setTimeout(60_000);

type Blob = imagesV1.PushBlobProgress;

async function push(h: Harness, req: Partial<imagesV1.PushRequest>): Promise<imagesV1.PushProgress[]> {
  const out: imagesV1.PushProgress[] = [];
  const full: imagesV1.PushRequest = { reference: '', insecureRegistries: [], username: '', password: '', target: '', ...req };
  for await (const m of h.images.push(full) as AsyncIterable<imagesV1.PushProgress>) out.push(m);
  return out;
}
const blobs = (events: imagesV1.PushProgress[]): Blob[] => events.flatMap((e) => (e.event?.$case === 'blob' ? [e.event.value] : []));
const done = (events: imagesV1.PushProgress[]): imagesV1.PushDone => {
  const last = events[events.length - 1]!.event!;
  if (last.$case !== 'done') throw new Error(`push ended with ${last.$case}`);
  return last.value;
};
/** Final status of each blob. */
const finalStatus = (events: imagesV1.PushProgress[]) => Object.fromEntries(blobs(events).map((b) => [b.digest, b.status]));
const uploads = (reg: TestRegistry, since: number) => reg.requests().slice(since).filter((r) => /^(POST|PUT|PATCH) \S+\/blobs\//.test(r));

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('Images.Push to a registry (e2e)', () => {
  let h: Harness;
  let reg: TestRegistry;
  let secured: TestRegistry;
  let app: BuiltImage;

  const get = (reference: string) => h.unary<imagesV1.GetImageRequest, imagesV1.GetImageResponse>(h.images, 'get', { reference });
  const tag = (source: string, target: string) => h.unary<imagesV1.TagImageRequest, imagesV1.Image>(h.images, 'tag', { source, target });

  beforeAll(async () => {
    [reg, secured, h] = await Promise.all([startRegistry(), startRegistry({ auth: { user: 'berth', password: 's3cret' } }), startHarness()]);
    const bb = await busyboxImage('busybox:latest', 'gzip');
    app = await buildImage({ name: 'app:1', layers: [busyboxLayerEntries(), [{ type: 'file', path: 'etc/app', content: 'v1\n' }]] }, 'gzip');
    await h.importArchive(await ociArchive([bb, app]));
  });
  afterAll(async () => {
    await h?.close();
    await reg?.stop();
    await secured?.stop();
  });

  it('pushes the stored manifest byte-for-byte; pulled back into a fresh store it is the same image', async () => {
    await tag('app:1', `${reg.host}/app:1`);
    const events = await push(h, { reference: `${reg.host}/app:1` });
    const first = events[0]!.event!;
    expect(first.$case).toBe('resolved');
    if (first.$case === 'resolved') expect(first.value.blobs.map((b) => b.digest)).toEqual([app.configDigest, ...app.layers.map((l) => l.digest)]);
    expect(finalStatus(events)).toEqual(Object.fromEntries([app.configDigest, ...app.layers.map((l) => l.digest)].map((d) => [d, 'pushed'])));
    const d = done(events);
    expect(d).toEqual({ reference: `${reg.host}/app:1`, digest: app.manifestDigest, size: app.manifest.length, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    // The registry holds exactly our bytes.
    const res = await fetch(`http://${reg.host}/v2/app/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.headers.get('docker-content-digest')).toBe(app.manifestDigest);
    expect(Buffer.from(await res.arrayBuffer()).equals(app.manifest)).toBe(true);
    const ev = await h.waitForEvent((e) => e.topic === 'image.push');
    expect(ev.attributes).toMatchObject({ name: `${reg.host}/app:1`, target: app.manifestDigest });

    const fresh = await startHarness();
    try {
      const pulled: imagesV1.PullProgress[] = [];
      const req: imagesV1.PullRequest = { reference: `${reg.host}/app:1`, insecureRegistries: [], username: '', password: '', platform: '' };
      for await (const m of fresh.images.pull(req) as AsyncIterable<imagesV1.PullProgress>) pulled.push(m);
      const back = await fresh.unary<imagesV1.GetImageRequest, imagesV1.GetImageResponse>(fresh.images, 'get', { reference: `${reg.host}/app:1` });
      const mine = await get(`${reg.host}/app:1`);
      expect(back.resolved!.id).toBe(mine.resolved!.id);
      expect(back.resolved!.manifest!.digest).toBe(mine.resolved!.manifest!.digest);
      expect(back.resolved!.diffIds).toEqual(mine.resolved!.diffIds);
    } finally {
      await fresh.close();
    }
  });

  it('a second push finds every blob in the registry and uploads nothing', async () => {
    const before = reg.requests().length;
    const events = await push(h, { reference: `${reg.host}/app:1` });
    expect(blobs(events).map((b) => b.status)).toEqual(['exists', 'exists', 'exists']);
    expect(done(events).digest).toBe(app.manifestDigest);
    expect(uploads(reg, before)).toEqual([]);
    expect(reg.requests().slice(before).filter((r) => r.startsWith('HEAD '))).toHaveLength(3);
  });

  it('pushes the same layers to another repository by mounting them, and records the RepoDigest', async () => {
    const before = reg.requests().length;
    const events = await push(h, { reference: `${reg.host}/app:1`, target: `${reg.host}/copy/app:v2` });
    expect(blobs(events).map((b) => [b.status, b.mountedFrom])).toEqual([['mounted', 'app'], ['mounted', 'app'], ['mounted', 'app']]);
    expect(uploads(reg, before).every((r) => /^POST \S+\?mount=sha256%3A[a-f0-9]{64}&from=app 201$/.test(r))).toBe(true);
    expect(uploads(reg, before)).toHaveLength(3);
    expect(done(events)).toMatchObject({ reference: `${reg.host}/copy/app:v2`, digest: app.manifestDigest });
    const got = await get(app.configDigest);
    expect(got.resolved!.names).toEqual(expect.arrayContaining([`${reg.host}/copy/app@${app.manifestDigest}`]));
  });

  it('shares a layer another image pushed: only the new blobs go up', async () => {
    await tag('busybox:latest', `${reg.host}/busybox:latest`);
    const bb = await get('busybox:latest');
    const before = reg.requests().length;
    const events = await push(h, { reference: `${reg.host}/busybox:latest` });
    const st = finalStatus(events);
    // The busybox layer is app's base layer: the registry links it from the app repository (blobs are per
    // repository, so HEAD in busybox misses it); only the config is new.
    expect(st[bb.resolved!.config!.digest]).toBe('pushed');
    expect(st[bb.resolved!.layers[0]!.digest]).toBe('mounted');
    expect(uploads(reg, before).filter((r) => r.startsWith('PUT '))).toHaveLength(1);
  });

  it('refuses a corrupt blob in the store before sending anything', async () => {
    const bad = await buildImage({ name: 'bad:1', layers: [[{ type: 'file', path: 'x', content: 'original bytes' }]] }, 'gzip');
    await h.importArchive(await ociArchive([bad]));
    await tag('bad:1', `${reg.host}/bad:1`);
    const file = path.join(h.stateDir, 'blobs', 'sha256', bad.layers[0]!.digest.slice('sha256:'.length));
    const data = fs.readFileSync(file);
    data[data.length - 5] ^= 0xff;
    fs.writeFileSync(file, data);
    const before = reg.requests().length;
    const err = await failure(push(h, { reference: `${reg.host}/bad:1` }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toContain(`layer ${bad.layers[0]!.digest} in the store is corrupt`);
    expect(uploads(reg, before)).toEqual([]);
    expect(reg.requests().slice(before).some((r) => r.startsWith('PUT ') && r.includes('/manifests/'))).toBe(false);
  });

  it('NOT_FOUND for an unknown image, naming it; an id without a target is INVALID_ARGUMENT', async () => {
    const err = await failure(push(h, { reference: `${reg.host}/nothing:here` }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe(`no such image: ${reg.host}/nothing:here`);
    const byId = await failure(push(h, { reference: app.configDigest }));
    expect(byId.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(byId.details).toContain('give a name');
  });

  it('UNAVAILABLE when the registry is unreachable', async () => {
    const port = await freePort();
    const err = await failure(push(h, { reference: 'app:1', target: `127.0.0.1:${port}/app:1` }));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain(`cannot reach registry 127.0.0.1:${port}`);
  });

  it('a registry with basic auth: refused without or with wrong credentials, pushed with them', async () => {
    const target = `${secured.host}/app:1`;
    const none = await failure(push(h, { reference: 'app:1', target }));
    expect(none.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(none.details).toBe(`registry ${secured.host} needs a user name and password`);
    const wrong = await failure(push(h, { reference: 'app:1', target, username: 'berth', password: 'nope' }));
    expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(wrong.details).toContain(`registry ${secured.host} refused access to app`);
    const before = secured.requests().length;
    const events = await push(h, { reference: 'app:1', target, username: 'berth', password: 's3cret' });
    expect(done(events).digest).toBe(app.manifestDigest);
    expect(uploads(secured, before).filter((r) => r.startsWith('PUT '))).toHaveLength(3);
  });

  it('a registry behind a token service: asks for pull,push on the repository and pushes with the bearer token', async () => {
    const front = await startFront(reg.host, { user: 'berth', password: 's3cret' });
    try {
      const events = await push(h, { reference: 'app:1', target: `${front.host}/tokens/app:1`, username: 'berth', password: 's3cret' });
      expect(done(events).digest).toBe(app.manifestDigest);
      const tokenRequests = front.log.filter((l) => l.startsWith('GET /token'));
      expect(tokenRequests).toHaveLength(1);
      const scopes = new URL(`http://x${tokenRequests[0]!.slice('GET '.length)}`).searchParams.getAll('scope');
      expect(scopes).toEqual(expect.arrayContaining(['repository:tokens/app:pull,push']));
      // Every upload went through the front (its Locations), none around it.
      expect(front.log.filter((l) => /^PUT \/v2\/tokens\/app\/blobs\/uploads\//.test(l)).length).toBeGreaterThan(0);
    } finally {
      await front.stop();
    }
  });

  it('Docker schema 2 images go up with their own media type and digest; big layers report progress per MiB', async () => {
    const big = await buildImage({ name: 'big:1', layers: [[{ type: 'file', path: 'big.bin', content: randomBytes(3 << 20) }]] }, 'gzip');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-store-push-'));
    try {
      const file = path.join(tmp, 'big.tar');
      fs.writeFileSync(file, await ociArchive([big]));
      reg.push(file, 'v2/big:1', false, 'v2s2');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const req: imagesV1.PullRequest = { reference: `${reg.host}/v2/big:1`, insecureRegistries: [], username: '', password: '', platform: '' };
    for await (const _ of h.images.pull(req) as AsyncIterable<imagesV1.PullProgress>) void _;
    const stored = await get(`${reg.host}/v2/big:1`);
    expect(stored.resolved!.manifest!.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    // To another registry: nothing to mount from, every byte goes up.
    const events = await push(h, { reference: `${reg.host}/v2/big:1`, target: `${secured.host}/big:1`, username: 'berth', password: 's3cret' });
    expect(done(events)).toMatchObject({ digest: stored.resolved!.manifest!.digest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' });
    const layer = stored.resolved!.layers[0]!;
    const progress = blobs(events).filter((b) => b.digest === layer.digest);
    expect(progress.map((b) => b.status)).toEqual(['uploading', 'uploading', 'uploading', 'uploading', 'pushed']);
    expect(progress.map((b) => b.offset)).toEqual([0, 1 << 20, 2 << 20, 3 << 20, layer.size]);
  });

  it('plain HTTP only to loopback names or listed registries: 0.0.0.0 is refused until listed', async () => {
    const port = reg.host.split(':')[1]!;
    const err = await failure(push(h, { reference: 'app:1', target: `0.0.0.0:${port}/plain/app:1` }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toBe(`0.0.0.0:${port} does not speak HTTPS; mark it insecure to use plain HTTP`);
    const events = await push(h, { reference: 'app:1', target: `0.0.0.0:${port}/plain/app:1`, insecureRegistries: [`0.0.0.0:${port}`] });
    expect(done(events).digest).toBe(app.manifestDigest);
  });

  it('a cancelled push stops its uploads; the next push goes through', async () => {
    const front = await startFront(reg.host, { user: 'berth', password: 's3cret', scheme: 'basic' });
    try {
      const target = `${front.host}/cancel/app:1`;
      const stalled = front.stallNextUpload();
      const req: imagesV1.PushRequest = { reference: 'app:1', insecureRegistries: [], username: 'berth', password: 's3cret', target };
      const call = h.images.push(req);
      const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
      call.on('data', () => undefined);
      // Cancel while the front holds one upload unanswered: the service must give that request up.
      await stalled.held;
      call.cancel();
      expect((await ended).code).toBe(grpc.status.CANCELLED);
      await stalled.closed;
      const events = await push(h, { reference: 'app:1', target, username: 'berth', password: 's3cret' });
      expect(done(events).digest).toBe(app.manifestDigest);
    } finally {
      await front.stop();
    }
  });
});
