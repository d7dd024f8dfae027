// The rootfs process removes a destroyed container's writable snapshot on the supervisor's container.destroy
// event (a detached --rm container the supervisor removed on its own), also one published while it was down.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { snapshotsV1 } from '@berth/api';
import { EventBus, type Envelope } from '@berth/events';
import { mountSpecs, spawnService, startNatsServer, tempBerthDirs, unmountAll, waitHealthy, type NatsServerHandle, type ServiceProcess } from '@berth/testing';

type Client = snapshotsV1.SnapshotsClient;

function call<Req, Res>(client: Client, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void>)[method]!.call(client, req, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cid = (c: string) => c.repeat(64);

describe('rootfs container snapshot gc', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  let proc: ServiceProcess;
  let client: Client;
  let supervisor: EventBus;
  let observer: EventBus;
  const removedEvents: Envelope[] = [];
  let mnt: string | undefined;

  const start = async () => {
    proc = spawnService({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, env: { BERTH_LOG_LEVEL: 'warn' } });
    await waitHealthy(proc);
    client = new snapshotsV1.SnapshotsClient(proc.target, grpc.credentials.createInsecure());
  };
  const stopService = async () => {
    client.close();
    await proc.stop();
  };
  const keys = async () => (await call<snapshotsV1.ListSnapshotsRequest, snapshotsV1.ListSnapshotsResponse>(client, 'list', { parent: '' })).snapshots.map((s) => s.key).sort();
  const prepare = (key: string, parent: string, labels: Record<string, string>) =>
    call<snapshotsV1.PrepareRequest, snapshotsV1.MountsResponse>(client, 'prepare', { key, parent, labels });
  /** A writable snapshot as the SDK prepares one for container `id`. */
  const containerSnapshot = (id: string) => prepare(id, 'base', { 'berth.container': id });
  const destroy = async (id: string, bus = supervisor) => {
    bus.publish({ topic: 'container.destroy', subjectId: id, attributes: { name: 'x' }, body: { $case: 'container', value: { containerId: id, name: 'x', image: 'busybox', exitCode: 0, signal: '', oomKilled: false, execId: '', pid: 0 } } });
    expect(await bus.flush()).toBe(true);
  };
  const gone = (key: string) => until(`${key.slice(0, 12)} removed`, async () => ((await keys()).includes(key) ? undefined : true));

  beforeAll(async () => {
    nats = await startNatsServer();
    dirs = tempBerthDirs('berth-rootfs-gc-');
    supervisor = await EventBus.connect({ url: nats.url, source: 'supervisor', node: 'test' });
    observer = await EventBus.connect({ url: nats.url, source: 'test', node: 'test' });
    observer.subscribe('snapshot.remove', (ev) => removedEvents.push(ev));
    await start();
    // A committed parent, so container snapshots are overlays with an upper dir as in real use.
    await prepare('base-tmp', '', {});
    await call(client, 'commit', { name: 'base', key: 'base-tmp', labels: {} });
  });

  afterAll(async () => {
    if (mnt) unmountAll(mnt);
    client?.close();
    await proc?.stop();
    await supervisor?.close();
    await observer?.close();
    await nats?.dispose();
    dirs?.cleanup();
  });

  test('container.destroy from the supervisor removes that container’s writable snapshot and nothing else', async () => {
    await containerSnapshot(cid('1'));
    await containerSnapshot(cid('2'));
    await prepare('unlabelled', 'base', {});
    // A committed snapshot keeps its container label (commit keeps labels) but is an image layer now.
    await prepare('committing', 'base', { 'berth.container': cid('1') });
    await call(client, 'commit', { name: 'committed', key: 'committing', labels: {} });
    const dir = path.join(dirs.root, 'rootfs', 'snapshots');
    const before = fs.readdirSync(dir).length;

    await destroy(cid('1'));
    await gone(cid('1'));
    expect(await keys()).toEqual(['base', 'committed', cid('2'), 'unlabelled'].sort());
    // Its directory goes right after the record (renamed away in the same transaction, then deleted).
    await until('its directory deleted', async () => (fs.readdirSync(dir).length === before - 1 ? true : undefined));
    const ev = await until('snapshot.remove event', async () => removedEvents.find((e) => e.subjectId === cid('1')));
    expect(ev.source).toBe('rootfs');

    await destroy(cid('2'));
    await gone(cid('2'));
    for (const k of ['unlabelled', 'committed']) await call(client, 'remove', { key: k, force: true, owner: '' });
  });

  test('a destroy from another source is ignored; a snapshot still mounted is kept', async () => {
    await containerSnapshot(cid('3'));
    const mounted = await containerSnapshot(cid('4'));
    mnt = fs.mkdtempSync(path.join(dirs.root, 'mnt-'));
    mountSpecs(mounted.mounts, mnt);
    fs.writeFileSync(path.join(mnt, 'data'), 'still in use');
    const impostor = await EventBus.connect({ url: nats.url, source: 'inspector', node: 'test' });
    try {
      await destroy(cid('3'), impostor);
    } finally {
      await impostor.close();
    }
    await destroy(cid('4'));
    // Events are handled in order: once a later one took effect, the earlier ones were seen.
    await containerSnapshot(cid('5'));
    await destroy(cid('5'));
    await gone(cid('5'));
    expect(await keys()).toEqual(expect.arrayContaining([cid('3'), cid('4')]));
    expect(fs.readFileSync(path.join(mnt, 'data'), 'utf8')).toBe('still in use');

    unmountAll(mnt);
    mnt = undefined;
    for (const k of [cid('3'), cid('4')]) await call(client, 'remove', { key: k, force: true, owner: '' });
    expect(await keys()).toEqual(['base']);
  });

  test('a destroy published while rootfs was down is handled when it is back', async () => {
    await containerSnapshot(cid('6'));
    await stopService();
    await destroy(cid('6'));
    await start();
    await gone(cid('6'));
    expect(await keys()).toEqual(['base']);
  });
});
