// What a push refuses before it talks to any registry: the target is 127.0.0.1:1 (nothing listens), so a
// test that gets its own error proves the check came first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '@berth/service-kit';
import { busyboxImage, ociArchive, type BuiltImage } from '@berth/testing';
import { ImageNotFoundError } from '../errors';
import { chunked, openTestStore, type TestStore } from '../test-store';
import { Pusher } from './pusher';
import { PushTargetError, StoredBlobCorruptError } from '../errors';

const NOWHERE = '127.0.0.1:1';

describe('Pusher (before any request)', () => {
  let t: TestStore;
  let img: BuiltImage;
  let pusher: Pusher;
  const drain = async (reference: string, target = '') => {
    for await (const _ of pusher.push(reference, { target })) void _;
  };

  beforeEach(async () => {
    t = openTestStore();
    img = await busyboxImage(`${NOWHERE}/bb:1`, 'gzip');
    await t.store.importer.import(chunked(await ociArchive([img])));
    pusher = new Pusher(t.store.content, t.store.images, t.store.db, { publish: (e) => t.events.push(e) });
  });
  afterEach(() => t.close());

  it('an unknown image is NOT_FOUND naming it', async () => {
    const err = await drain(`${NOWHERE}/nothing:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageNotFoundError);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe(`no such image: ${NOWHERE}/nothing:1`);
  });

  it('an id needs a target name; a target digest must be the manifest', async () => {
    const byId = await drain(img.configDigest).catch((e: unknown) => e);
    expect(byId).toBeInstanceOf(PushTargetError);
    expect(byId).toBeInstanceOf(InvalidArgumentError);
    const other = 'sha256:' + 'a'.repeat(64);
    const wrong = await drain(`${NOWHERE}/bb:1`, `${NOWHERE}/bb@${other}`).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PushTargetError);
    expect((wrong as Error).message).toBe(`cannot push ${NOWHERE}/bb:1 as ${NOWHERE}/bb@${other}: its manifest is ${img.manifestDigest}`);
  });

  it('a bad target name is INVALID_ARGUMENT', async () => {
    const err = await drain(`${NOWHERE}/bb:1`, `${NOWHERE}/UPPER:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain('UPPER');
  });

  it('a stored config that no longer hashes to its name is refused (FAILED_PRECONDITION), no event', async () => {
    const file = path.join(t.dir, 'blobs', 'sha256', img.configDigest.slice('sha256:'.length));
    // Still a config that parses: only its bytes (and so its hash) changed.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('amd64', 'amd65'));
    const err = await drain(`${NOWHERE}/bb:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoredBlobCorruptError);
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect((err as Error).message).toMatch(new RegExp(`^config ${img.configDigest} in the store is corrupt \\(its bytes hash to sha256:[a-f0-9]{64}\\); not pushed$`));
    expect(t.events.filter((e) => e.topic === 'image.push')).toEqual([]);
  });

  it('with everything in order it gets as far as the registry (here: unreachable, UNAVAILABLE)', async () => {
    const err = await drain(`${NOWHERE}/bb:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`cannot reach registry ${NOWHERE}`);
  });
});
