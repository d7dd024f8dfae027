// The event bus against a real nats-server with JetStream.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNatsServer, type NatsServerHandle } from '@berth/testing';
import { EventBus, NatsUnreachableError, STREAM_NAME, type StoredEvent } from '../src';

describe('EventBus on a real nats-server', () => {
  let nats: NatsServerHandle;
  let dir: string;

  beforeEach(async () => {
    nats = await startNatsServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bus-'));
  });

  afterEach(async () => {
    await nats.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the stream and delivers a published envelope as its JSON mapping', async () => {
    const bus = await EventBus.connect({ url: nats.url, source: 'image-store', node: 'node-a', outboxFile: path.join(dir, 'outbox.db') });
    const received: unknown[] = [];
    const sub = bus.nc.subscribe('berth.events.>', { callback: (_e, m) => void received.push(m.json()) });
    await bus.nc.flush();
    const env = bus.publish({
      topic: 'image.create',
      subjectId: 'docker.io/library/busybox:latest',
      attributes: { name: 'busybox:latest' },
      body: { $case: 'image', value: { name: 'docker.io/library/busybox:latest', targetDigest: 'sha256:' + 'a'.repeat(64) } },
    });
    expect(await bus.flush()).toBe(true);
    await waitFor(() => received.length === 1);
    expect(received[0]).toEqual({
      id: env.id,
      time: env.time!.toISOString(),
      topic: 'image.create',
      source: 'image-store',
      node: 'node-a',
      subjectId: 'docker.io/library/busybox:latest',
      attributes: { name: 'busybox:latest' },
      image: { name: 'docker.io/library/busybox:latest', targetDigest: 'sha256:' + 'a'.repeat(64) },
    });
    const info = await (await import('@nats-io/jetstream')).jetstreamManager(bus.nc).then((m) => m.streams.info(STREAM_NAME));
    expect(info.config.subjects).toEqual(['berth.events.>']);
    expect(info.state.messages).toBe(1);
    sub.unsubscribe();
    await bus.close();
  });

  it('delivers events raised while NATS is down once, in order, after it comes back', async () => {
    const outboxFile = path.join(dir, 'outbox.db');
    const bus = await EventBus.connect({ url: nats.url, source: 'supervisor', node: 'n', outboxFile });
    bus.publish({ topic: 'container.create', subjectId: 'c1' });
    expect(await bus.flush()).toBe(true);

    await nats.stop();
    const during = ['container.start', 'container.die', 'container.destroy'].map((topic) => bus.publish({ topic, subjectId: 'c1' }).id);
    expect(bus.pending()).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 700));
    await nats.start();
    expect(await bus.flush(20_000)).toBe(true);
    expect(bus.pending()).toBe(0);

    const seen: StoredEvent[] = [];
    for await (const ev of bus.replay({ sequence: 1, until: new Date(Date.now() + 1000) })) seen.push(ev);
    expect(seen.map((e) => e.envelope.topic)).toEqual(['container.create', 'container.start', 'container.die', 'container.destroy']);
    expect(seen.slice(1).map((e) => e.envelope.id)).toEqual(during);
    await bus.close();
  });

  it('keeps undelivered events across a restart of the publishing process (durable outbox)', async () => {
    const outboxFile = path.join(dir, 'outbox.db');
    const first = await EventBus.connect({ url: nats.url, source: 'rootfs', node: 'n', outboxFile });
    await nats.stop();
    first.publish({ topic: 'snapshot.prepare', subjectId: 'k1' });
    first.publish({ topic: 'snapshot.remove', subjectId: 'k1' });
    // The process "dies" with the events still queued.
    await first.close(100);
    await nats.start();
    const second = await EventBus.connect({ url: nats.url, source: 'rootfs', node: 'n', outboxFile });
    expect(await second.flush(20_000)).toBe(true);
    const topics: string[] = [];
    for await (const ev of second.replay({ sequence: 1, until: new Date(Date.now() + 1000) })) topics.push(ev.envelope.topic);
    expect(topics).toEqual(['snapshot.prepare', 'snapshot.remove']);
    await second.close();
  });

  it('replays from a time and stops at until; a durable consumer gets each event once', async () => {
    const bus = await EventBus.connect({ url: nats.url, source: 'supervisor', node: 'n' });
    bus.publish({ topic: 'container.create', subjectId: 'old' });
    await bus.flush();
    await new Promise((r) => setTimeout(r, 50));
    const since = new Date();
    await new Promise((r) => setTimeout(r, 50));
    bus.publish({ topic: 'container.create', subjectId: 'new' });
    bus.publish({ topic: 'image.delete', subjectId: 'img' });
    await bus.flush();
    const replayed: string[] = [];
    for await (const ev of bus.replay({ since, until: new Date(), filter: 'container.>' })) replayed.push(ev.envelope.subjectId);
    expect(replayed).toEqual(['new']);

    const got: string[] = [];
    const ac = new AbortController();
    const consuming = bus.consumeDurable('test-durable', '>', (ev) => {
      got.push(ev.envelope.subjectId);
      if (got.length === 3) ac.abort();
    }, ac.signal);
    await consuming;
    expect(got).toEqual(['old', 'new', 'img']);
    // A second run of the same durable consumer sees only what came after.
    bus.publish({ topic: 'container.destroy', subjectId: 'new' });
    await bus.flush();
    const later: string[] = [];
    const ac2 = new AbortController();
    await bus.consumeDurable('test-durable', '>', (ev) => {
      later.push(ev.envelope.subjectId);
      ac2.abort();
    }, ac2.signal);
    expect(later).toEqual(['new']);
    await bus.close();
  });

  it('names the URL when NATS cannot be reached', async () => {
    await nats.stop();
    await expect(EventBus.connect({ url: nats.url, source: 'x', node: 'n', connectTimeoutMs: 600 })).rejects.toThrow(
      new NatsUnreachableError(nats.url, new Error('x')).message.split(':').slice(0, 3).join(':'),
    );
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a bounded replay', () => {
  it('ends at the last stored event when messages were deleted from the stream', async () => {
    const nats = await startNatsServer();
    try {
      const bus = await EventBus.connect({ url: nats.url, source: 'supervisor', node: 'n' });
      for (const id of ['a', 'b', 'c']) bus.publish({ topic: 'container.create', subjectId: id });
      await bus.flush();
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const jsm = await jetstreamManager(bus.nc);
      // The last event is deleted, as max_age or a purge would.
      await jsm.streams.deleteMessage(STREAM_NAME, 3);
      const seen: string[] = [];
      const started = Date.now();
      for await (const ev of bus.replay({ sequence: 1, until: new Date() })) seen.push(ev.envelope.subjectId);
      expect(seen).toEqual(['a', 'b']);
      expect(Date.now() - started).toBeLessThan(5000);
      await bus.close();
    } finally {
      await nats.dispose();
    }
  });
});
