// NATS stopped and started again during a loop of container lifecycles: a durable subscriber still gets each
// lifecycle event exactly once, in order per container (create < start < die < destroy).
import { EventBus, type StoredEvent } from '@berth/events';
import { importBusybox, removeAllContainers, startBerth, until, type BerthUnderTest } from './harness';

jest.setTimeout(180_000);

const LIFECYCLE = ['container.create', 'container.start', 'container.die', 'container.destroy'];

describe('NATS restart during container lifecycles', () => {
  let b: BerthUnderTest;
  let consumerBus: EventBus | undefined;
  const abort = new AbortController();

  beforeAll(async () => {
    b = await startBerth();
    await importBusybox(b.berth);
  });

  afterAll(async () => {
    abort.abort();
    await consumerBus?.close().catch(() => undefined);
    if (b) {
      await removeAllContainers(b.berth).catch(() => undefined);
      await b.stop();
    }
  });

  it('delivers every lifecycle event exactly once, in order per container, to a durable subscriber', async () => {
    const { berth } = b;
    const deliveries: StoredEvent[] = [];
    consumerBus = await EventBus.connect({ url: b.nats.url, source: 'fault-tests-consumer', node: 'test' });
    // The consumer keeps going across the NATS restart (the client reconnects; the durable remembers acks).
    const consuming = consumerBus.consumeDurable('fault-lifecycle', 'container.>', (ev) => void deliveries.push(ev), abort.signal).catch((err: unknown) => err);

    const ids: string[] = [];
    const lifecycle = async (i: number) => {
      const r = await berth.run({ image: 'busybox', name: `nats-${i}`, overrides: { cmd: ['sh', '-c', 'sleep 0.2'] }, hostConfig: { networkMode: 'none' }, detach: true });
      ids.push(r.container.id);
      await berth.containers.wait({ id: r.container.id, condition: 'not-running' });
      await berth.removeContainer(r.container.id);
    };

    for (let i = 0; i < 3; i++) await lifecycle(i);
    // NATS goes away while containers come and go; the services keep working from their outboxes.
    await b.nats.stop();
    for (let i = 3; i < 6; i++) await lifecycle(i);
    await b.nats.start();
    for (let i = 6; i < 9; i++) await lifecycle(i);

    const lifecycleOf = (id: string) => deliveries.filter((d) => d.envelope.subjectId === id && LIFECYCLE.includes(d.envelope.topic));
    await until(() => ids.every((id) => lifecycleOf(id).length >= 4), 60_000, 'all lifecycle events at the durable subscriber');
    // Give late redeliveries a chance to show up before counting.
    await new Promise((r) => setTimeout(r, 2000));

    const seen = new Map<string, number>();
    for (const d of deliveries) seen.set(d.envelope.id, (seen.get(d.envelope.id) ?? 0) + 1);
    const duplicated = [...seen].filter(([, n]) => n > 1);
    expect(duplicated).toEqual([]);
    for (const id of ids) expect(lifecycleOf(id).map((d) => d.envelope.topic)).toEqual(LIFECYCLE);
    // Stream order agrees with the per-container order.
    for (const id of ids) {
      const seqs = lifecycleOf(id).map((d) => d.sequence);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    }
    abort.abort();
    expect(await Promise.race([consuming, new Promise((r) => setTimeout(() => r('still running'), 5000))])).toBeUndefined();
  });
});
