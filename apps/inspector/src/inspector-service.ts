// The inspector's domain: Docker-shaped answers (inspect, top, ps, stats, events) from the supervisor, the
// image-store and rootfs over gRPC, the host's /proc and cgroups, and the event stream. Usable in-process;
// grpc/inspector-grpc.ts is a thin adapter over it.
import type { containersV1, inspectorV1 } from '@berth/api';
import { envelopeToJson, type Envelope, type ReplayOptions, type StoredEvent } from '@berth/events';
import { BerthError, type Logger } from '@berth/service-kit';
import { commandString, portStrings, selectContainers, statusString } from './container-list';
import { containerToDocker, overlayOptions } from './container-json';
import { ContainerView } from './container-view';
import { ContainerNotRunningError, EventStoreUnavailableError, ImageNotFoundError, InvalidTimeError } from './errors';
import { eventMatches, parseEventFilters, parseTimeText, toEventMessage } from './event-map';
import { containerPids, overlayMountPoint } from './host';
import { imageToDocker } from './image-json';
import { readSample, toStats, type RawSample } from './stats';
import { filterRows, parsePsOutput, psArgs, runPs } from './top';
import { isNotFound, isUnimplemented, type Upstream } from './upstream';

/** The part of the event bus the inspector uses. */
export interface EventSource {
  subscribe(filter: string, onEvent: (ev: Envelope, subject: string) => void): { unsubscribe(): void };
  replay(opts: ReplayOptions): AsyncGenerator<StoredEvent>;
}

export interface InspectorOptions {
  upstream: Upstream;
  events: EventSource;
  log?: Logger;
  /** Full re-List of the supervisor at most this old (default 10 s). */
  resyncMs?: number;
  /** Streaming stats interval (default 1000 ms). */
  statsIntervalMs?: number;
}

const RUNNING = new Set(['running', 'paused']);
const STATS_PRIME_MS = 250;
const REPLAY_IDLE_MS = Number(process.env.BERTH_INSPECTOR_REPLAY_IDLE_MS ?? 3000);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export class InspectorService {
  readonly view: ContainerView;
  private readonly subs: { unsubscribe(): void }[] = [];
  private readonly lastSamples = new Map<string, RawSample>();
  private networkIds: Map<string, string> | undefined;

  constructor(private readonly opts: InspectorOptions) {
    this.view = new ContainerView(opts.upstream, opts.resyncMs);
    this.subs.push(opts.events.subscribe('container.>', (ev) => this.view.onEvent(ev)));
    this.subs.push(opts.events.subscribe('service.start', (ev) => this.view.onEvent(ev)));
    this.subs.push(opts.events.subscribe('network.>', () => (this.networkIds = undefined)));
  }

  /** Events may have been missed (NATS reconnected): fetch everything again on the next query. */
  invalidate(): void {
    this.view.invalidate();
    this.networkIds = undefined;
  }

  close(): void {
    for (const s of this.subs.splice(0)) s.unsubscribe();
  }

  // ---- inspect ----------------------------------------------------------------------------------------

  /** The container now, fresh from the supervisor. */
  private current(ref: string): Promise<containersV1.Container> {
    return this.view.lookup(ref);
  }

  private async networkIdMap(): Promise<Map<string, string>> {
    if (this.networkIds) return this.networkIds;
    try {
      const nets = await this.opts.upstream.listNetworks();
      this.networkIds = new Map(nets.map((n) => [n.name, n.id]));
    } catch (err) {
      // A supervisor without the Networks service (the local none/host provider): no ids to show.
      if (!isUnimplemented(err)) throw err;
      this.networkIds = new Map();
    }
    return this.networkIds;
  }

  /** docker inspect of one container, as a JSON-ready object; with `size`, SizeRw and SizeRootFs too. */
  async inspect(ref: string, size = false): Promise<Record<string, unknown>> {
    const c = await this.current(ref);
    const upper = overlayOptions(c.rootfs).upperdir ?? '';
    const doc = containerToDocker(c, { mergedDir: overlayMountPoint(upper), networkIds: await this.networkIdMap() });
    if (size) Object.assign(doc, await this.sizes(c));
    return doc;
  }

  /** The writable layer's bytes, and those plus every unpacked layer below it (rootfs's own counts). */
  private async sizes(c: containersV1.Container): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const rw = await this.sizeRw(c);
    let total = rw;
    if (c.snapshotKey) {
      try {
        let parent = (await this.opts.upstream.snapshotStat(c.snapshotKey)).parent;
        for (let depth = 0; parent && depth < 512; depth++) {
          total += (await this.opts.upstream.snapshotUsage(parent)).size;
          parent = (await this.opts.upstream.snapshotStat(parent)).parent;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return { SizeRw: rw, SizeRootFs: total };
  }

  async inspectImage(ref: string): Promise<Record<string, unknown>> {
    try {
      return imageToDocker(await this.opts.upstream.getImage(ref));
    } catch (err) {
      if (isNotFound(err)) throw new ImageNotFoundError(ref);
      throw err;
    }
  }

  // ---- top ----------------------------------------------------------------------------------------------

  async top(ref: string, args: string[]): Promise<inspectorV1.TopResponse> {
    const argv = psArgs(args);
    const c = await this.current(ref);
    const st = c.state!;
    if (!RUNNING.has(st.status)) throw new ContainerNotRunningError(ref, st.status);
    const pids = containerPids(c.id, st.pid);
    // Gone between the supervisor's answer and now.
    if (pids.length === 0) throw new ContainerNotRunningError(ref, 'exited');
    const table = parsePsOutput(await runPs(argv));
    const res = filterRows(table, pids);
    if (res.processes.length === 0) throw new ContainerNotRunningError(ref, 'exited');
    return res;
  }

  // ---- ps -------------------------------------------------------------------------------------------------

  async list(req: inspectorV1.ListRequest): Promise<inspectorV1.ListResponse> {
    await this.view.refresh();
    const chosen = selectContainers(this.view.all(), { all: req.all, last: req.last, filters: req.filters });
    const now = Date.now();
    const containers = await Promise.all(
      chosen.map(async (c): Promise<inspectorV1.ContainerSummary> => ({
        id: c.id,
        names: ['/' + c.name],
        image: c.config?.image ?? '',
        command: commandString(c.config),
        created: c.createdAt,
        state: c.state!.status,
        status: statusString(c.state!, now),
        ports: portStrings(c),
        labels: { ...(c.config?.labels ?? {}) },
        sizeRw: req.size ? await this.sizeRw(c) : 0,
      })),
    );
    return { containers };
  }

  private async sizeRw(c: containersV1.Container): Promise<number> {
    if (!c.snapshotKey) return 0;
    try {
      return (await this.opts.upstream.snapshotUsage(c.snapshotKey)).size;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }

  // ---- stats ------------------------------------------------------------------------------------------

  private async statsTargets(ids: string[]): Promise<containersV1.Container[]> {
    if (ids.length === 0) {
      await this.view.refresh();
      return this.view.all().filter((c) => RUNNING.has(c.state!.status));
    }
    const out: containersV1.Container[] = [];
    for (const ref of ids) {
      const c = await this.current(ref);
      if (!RUNNING.has(c.state!.status)) throw new ContainerNotRunningError(ref, c.state!.status);
      out.push(c);
    }
    return out;
  }

  private sampleAll(targets: containersV1.Container[]): inspectorV1.StatsResponse {
    const stats = targets.map((c) => {
      const cur = readSample(c.id, c.state!.pid);
      const prev = this.lastSamples.get(c.id);
      this.lastSamples.set(c.id, cur);
      return toStats(c.id, c.name, cur, prev);
    });
    return { time: new Date(), stats };
  }

  /** One sample (CPU over a short interval when there is no recent one), or one a second until aborted. */
  async stats(ids: string[], stream: boolean, emit: (r: inspectorV1.StatsResponse) => Promise<void>, signal?: AbortSignal): Promise<void> {
    let targets = await this.statsTargets(ids);
    const known = new Set(this.view.all().map((c) => c.id));
    for (const id of this.lastSamples.keys()) if (!known.has(id)) this.lastSamples.delete(id);
    const stale = (id: string) => {
      const s = this.lastSamples.get(id);
      return !s || Number(process.hrtime.bigint() - s.at) > 10e9;
    };
    if (targets.some((c) => stale(c.id))) {
      this.sampleAll(targets);
      await sleep(STATS_PRIME_MS, signal);
    }
    await emit(this.sampleAll(targets));
    while (stream && !signal?.aborted) {
      await sleep(this.opts.statsIntervalMs ?? 1000, signal);
      if (signal?.aborted) break;
      // "All" follows the running set; named ones drop out when they stop. The view (kept by events) says
      // which: no call to the supervisor per container per tick.
      await this.view.refresh();
      const now = new Map(this.view.all().map((c) => [c.id, c]));
      targets = ids.length === 0 ? [...now.values()] : targets.map((c) => now.get(c.id)).filter((c): c is containersV1.Container => !!c);
      targets = targets.filter((c) => RUNNING.has(c.state!.status));
      await emit(this.sampleAll(targets));
    }
  }

  // ---- events -------------------------------------------------------------------------------------------

  /** Stored events from `since` (then live ones unless `until` has passed), Docker-shaped and filtered. */
  async events(req: inspectorV1.EventsRequest, emit: (m: inspectorV1.EventMessage) => Promise<void>, signal?: AbortSignal): Promise<void> {
    const filters = parseEventFilters(req.filters);
    const now = Date.now();
    const since = req.sinceText ? parseTimeText('since', req.sinceText, now) : req.since;
    const until = req.untilText ? parseTimeText('until', req.untilText, now) : req.until;
    if (since && until && until.getTime() < since.getTime()) throw new InvalidTimeError('until', `${req.untilText || until.toISOString()} (before since)`);
    // Nothing stored and no future to wait for.
    if (!since && until && until.getTime() <= now) return;

    const ac = new AbortController();
    const stop = () => ac.abort();
    signal?.addEventListener('abort', stop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const replay: ReplayOptions = { filter: '>', signal: ac.signal };
    if (since) replay.since = since;
    if (until && until.getTime() <= now) replay.until = until;
    else if (until) timer = setTimeout(stop, until.getTime() - now);
    // A bounded replay asks only for stored events: a quiet gap means it is over, whatever the consumer's
    // pending count says (a guard: once, under heavy load, a replay stalled after its last stored event).
    let idle: NodeJS.Timeout | undefined;
    const quiet = () => {
      if (!replay.until) return;
      if (idle) clearTimeout(idle);
      idle = setTimeout(stop, REPLAY_IDLE_MS);
    };
    try {
      for await (const stored of this.opts.events.replay(replay)) {
        quiet();
        const t = stored.envelope.time?.getTime() ?? 0;
        if (until && t > until.getTime()) break;
        // JetStream starts at the stored time; the event's own time (docker's) may be a little earlier.
        if (since && t < since.getTime()) continue;
        const m = toEventMessage(stored.envelope, stored.sequence, envelopeToJson(stored.envelope));
        if (eventMatches(m, filters)) await emit(m);
        if (ac.signal.aborted) break;
      }
    } catch (err) {
      if (err instanceof BerthError) throw err;
      throw new EventStoreUnavailableError((err as Error).message);
    } finally {
      if (idle) clearTimeout(idle);
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    }
  }
}
