// The berth event bus: publish envelopes to JetStream through a durable outbox; subscribe live; replay.
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { envelopeFromJson, envelopeToJson, makeEnvelope, type Envelope, type NewEvent } from './envelope';
import { Outbox } from './outbox';
import { STREAM_NAME, SUBJECT_PREFIX, subjectFor } from './subjects';

const NANOS_PER_MS = 1_000_000;
/** How long a replay bounded by `until` waits for a further stored event once `until` has passed. */
const REPLAY_IDLE_MS = 750;
/** The same before the first event, while the consumer is being made on the server. */
const REPLAY_FIRST_EVENT_MS = 5000;

export interface StreamLimits {
  /** How long events are kept (default 7 days). */
  maxAgeMs: number;
  /** Bytes kept at most (default 1 GiB). */
  maxBytes: number;
  /** Window in which a repeated message id is dropped (default 10 minutes). */
  duplicateWindowMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxBytes: 1024 ** 3,
  duplicateWindowMs: 10 * 60 * 1000,
};

export class NatsUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach NATS at ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'NatsUnreachableError';
  }
}

export interface EventBusOptions {
  url: string;
  /** Service name, the envelope's source. */
  source: string;
  /** Node name, the envelope's node. */
  node: string;
  /** SQLite file of the outbox; events are only kept in memory when absent (tests, clients). */
  outboxFile?: string;
  log?: Logger;
  /** How long to keep trying the first connection (default 10 s). */
  connectTimeoutMs?: number;
  limits?: Partial<StreamLimits>;
}

export interface StoredEvent {
  envelope: Envelope;
  subject: string;
  /** JetStream stream sequence. */
  sequence: number;
}

export interface ReplayOptions {
  /** Start at this time (inclusive). */
  since?: Date;
  /** Or at this stream sequence. */
  sequence?: number;
  /** Stop after this time; without it the replay follows live events until the signal aborts. */
  until?: Date;
  /** Subject filter below berth.events, e.g. "container.>" (default ">"). */
  filter?: string;
  signal?: AbortSignal;
}

/** A queue kept in memory for callers without an outbox file: same ordering, no durability. */
class MemoryOutbox {
  private rows: { seq: number; id: string; subject: string; payload: string }[] = [];
  private next = 1;
  add(id: string, subject: string, payload: string): void {
    this.rows.push({ seq: this.next++, id, subject, payload });
  }
  peek(limit: number) {
    return this.rows.slice(0, limit);
  }
  remove(seq: number): void {
    this.rows = this.rows.filter((r) => r.seq !== seq);
  }
  size(): number {
    return this.rows.length;
  }
  close(): void {}
}

export class EventBus {
  private retryTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private retryDelayMs = 200;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];

  private constructor(
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly outbox: Outbox | MemoryOutbox,
    private readonly opts: EventBusOptions,
  ) {}

  /** Connects (reconnecting forever afterwards), makes sure the stream exists, and resumes the outbox. */
  static async connect(opts: EventBusOptions): Promise<EventBus> {
    const deadline = Date.now() + (opts.connectTimeoutMs ?? 10_000);
    let nc: NatsConnection | undefined;
    let lastErr: unknown;
    while (!nc) {
      try {
        nc = await connect({
          servers: opts.url,
          name: `berth-${opts.source}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          timeout: Math.max(500, Math.min(2000, deadline - Date.now())),
        });
      } catch (err) {
        lastErr = err;
        if (Date.now() >= deadline) throw new NatsUnreachableError(opts.url, lastErr);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    try {
      await ensureStream(nc, { ...DEFAULT_STREAM_LIMITS, ...opts.limits });
    } catch (err) {
      await nc.close();
      throw new NatsUnreachableError(opts.url, err);
    }
    const outbox = opts.outboxFile ? new Outbox(opts.outboxFile) : new MemoryOutbox();
    const bus = new EventBus(nc, jetstream(nc), outbox, opts);
    bus.kick();
    return bus;
  }

  /** Records the event durably and returns; delivery to JetStream happens in order, in the background. */
  publish(ev: NewEvent): Envelope {
    if (this.closed) throw new Error('event bus is closed');
    const env = makeEnvelope(this.opts.source, this.opts.node, ev);
    this.outbox.add(env.id, subjectFor(env.topic), envelopeToJson(env));
    this.kick();
    return env;
  }

  /** Events still waiting for JetStream's acknowledgement. */
  pending(): number {
    return this.outbox.size();
  }

  /** Resolves once every event published so far has been acknowledged (or the timeout passed). */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    if (this.outbox.size() === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(this.outbox.size() === 0), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.closed || this.draining) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  // One at a time, oldest first: order per container holds, and a failure stops the queue where it is.
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const rows = this.outbox.peek(64);
        if (rows.length === 0) break;
        for (const row of rows) {
          if (this.closed) return;
          await this.js.publish(row.subject, row.payload, { msgID: row.id, timeout: 3000 });
          this.outbox.remove(row.seq);
        }
      }
      this.retryDelayMs = 200;
      for (const w of this.idleWaiters.splice(0)) w();
    } catch (err) {
      if (this.closed) return;
      this.opts.log?.warn({ err: (err as Error).message, pending: this.outbox.size() }, 'event delivery paused; will retry');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.retryDelayMs);
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
    }
  }

  /** Live events (core NATS, nothing replayed). `filter` is below berth.events, e.g. "container.>". */
  subscribe(filter: string, onEvent: (ev: Envelope, subject: string) => void): Subscription {
    return this.nc.subscribe(`${SUBJECT_PREFIX}.${filter}`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          onEvent(envelopeFromJson(msg.string()), msg.subject);
        } catch (e) {
          this.opts.log?.warn({ err: (e as Error).message, subject: msg.subject }, 'malformed event skipped');
        }
      },
    });
  }

  /** Stored events from a time or a sequence, in stream order; follows live ones when `until` is unset. */
  async *replay(opts: ReplayOptions = {}): AsyncGenerator<StoredEvent> {
    const filter = `${SUBJECT_PREFIX}.${opts.filter ?? '>'}`;
    // A single string keeps it a pre-2.10 filter_subject (Debian's nats-server is 2.9).
    const base = { filter_subjects: filter };
    const consumer = await this.js.consumers.get(
      STREAM_NAME,
      opts.sequence
        ? { ...base, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.sequence }
        : opts.since
          ? { ...base, deliver_policy: DeliverPolicy.StartTime, opt_start_time: opts.since.toISOString() }
          : { ...base, deliver_policy: DeliverPolicy.New },
    );
    // `until` has millisecond precision and JetStream timestamps nanoseconds: an event stored in the same
    // millisecond as `until` (but a few microseconds past it) is still before it.
    const untilNs = opts.until ? (BigInt(opts.until.getTime()) + 1n) * BigInt(NANOS_PER_MS) - 1n : undefined;
    if (untilNs !== undefined) {
      // Nothing to replay at all: the stream has no message for the filter.
      const info = await consumer.info(true);
      if (info.num_pending === 0) return;
    }
    const messages = await consumer.consume();
    const stop = () => messages.stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
    // A bounded replay also ends once `until` has passed and nothing more arrived for a moment: the pending
    // count alone can stay above 0 (messages expired or purged under it), which would wait forever.
    let lastDelivery = Date.now();
    let handing = false; // the caller is still busy with the event last yielded
    let delivered = false;
    const untilMs = opts.until?.getTime();
    const idle =
      untilMs === undefined
        ? undefined
        : setInterval(() => {
            // Before the first event the consumer may still be starting: give it longer.
            const idleMs = delivered ? REPLAY_IDLE_MS : REPLAY_FIRST_EVENT_MS;
            if (!handing && Date.now() > untilMs && Date.now() - lastDelivery > idleMs) stop();
          }, REPLAY_IDLE_MS / 3);
    try {
      for await (const m of messages) {
        lastDelivery = Date.now();
        delivered = true;
        if (untilNs !== undefined && m.info.timestampNanos > untilNs) break;
        handing = true;
        yield toStored(m);
        handing = false;
        lastDelivery = Date.now();
        if (untilNs !== undefined && m.info.pending === 0) break;
      }
    } finally {
      if (idle) clearInterval(idle);
      opts.signal?.removeEventListener('abort', stop);
      messages.stop();
    }
  }

  /**
   * A durable subscriber: a named JetStream consumer that remembers what it acknowledged, so it gets each
   * event once even across its own and NATS's restarts. The handler's success acknowledges the event.
   */
  async consumeDurable(
    name: string,
    filter: string,
    handler: (ev: StoredEvent) => Promise<void> | void,
    signal?: AbortSignal,
  ): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.consumers.info(STREAM_NAME, name);
    } catch {
      await jsm.consumers.add(STREAM_NAME, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `${SUBJECT_PREFIX}.${filter}`,
      });
    }
    const consumer = await this.js.consumers.get(STREAM_NAME, name);
    const messages = await consumer.consume();
    signal?.addEventListener('abort', () => messages.stop(), { once: true });
    for await (const m of messages) {
      await handler(toStored(m));
      m.ack();
    }
  }

  async close(flushTimeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    await this.flush(flushTimeoutMs);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.draining;
    await this.nc.drain().catch(() => this.nc.close());
    this.outbox.close();
  }
}

function toStored(m: JsMsg): StoredEvent {
  return { envelope: envelopeFromJson(m.string()), subject: m.subject, sequence: m.seq };
}

async function ensureStream(nc: NatsConnection, limits: StreamLimits): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: STREAM_NAME,
    subjects: [`${SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    max_age: limits.maxAgeMs * NANOS_PER_MS,
    max_bytes: limits.maxBytes,
    duplicate_window: limits.duplicateWindowMs * NANOS_PER_MS,
  };
  try {
    await jsm.streams.info(STREAM_NAME);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Another service made it at the same moment.
      await jsm.streams.info(STREAM_NAME).catch(() => {
        throw err;
      });
    }
  }
}
