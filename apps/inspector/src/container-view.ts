// The inspector's view of the supervisor's containers: one full List, then kept current by the container
// events (each event marks its container to be fetched again on the next query). The whole view is fetched
// again when the supervisor (re)starts, when NATS reconnects (events may have been missed) and when it is
// older than resyncMs, so answers stay right after any service restarts.
import type { containersV1 } from '@berth/api';
import type { Envelope } from '@berth/events';
import { AmbiguousContainerError, ContainerNotFoundError } from './errors';
import { isFailedPrecondition, isNotFound, type Upstream } from './upstream';

export class ContainerView {
  private readonly byId = new Map<string, containersV1.Container>();
  private stale = true;
  private lastSync = 0;
  private readonly dirty = new Set<string>();
  private refreshing: Promise<void> | undefined;
  /** Full Lists done (for tests and the measurements). */
  fullSyncs = 0;

  constructor(
    private readonly upstream: Upstream,
    private readonly resyncMs = 10_000,
  ) {}

  /** Feeds one event; cheap, no I/O. */
  onEvent(ev: Envelope): void {
    if (ev.topic === 'service.start' && ev.subjectId === 'supervisor') this.invalidate();
    else if (ev.topic.startsWith('container.') && ev.subjectId) this.dirty.add(ev.subjectId);
  }

  /** Everything is fetched again on the next query. */
  invalidate(): void {
    this.stale = true;
  }

  /** Brings the view up to date with what the events announced (one query at a time does the work). */
  async refresh(): Promise<void> {
    while (this.refreshing) await this.refreshing;
    if (!this.stale && this.dirty.size === 0 && Date.now() - this.lastSync < this.resyncMs) return;
    this.refreshing = this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (this.stale || Date.now() - this.lastSync >= this.resyncMs) {
      // Events arriving while the List runs mark their containers dirty again: nothing is lost.
      this.stale = false;
      this.dirty.clear();
      const started = Date.now();
      try {
        const all = await this.upstream.listContainers();
        this.byId.clear();
        for (const c of all) this.byId.set(c.id, c);
        this.lastSync = started;
        this.fullSyncs++;
      } catch (err) {
        this.stale = true;
        throw err;
      }
      return;
    }
    const ids = [...this.dirty];
    this.dirty.clear();
    await Promise.all(ids.map((id) => this.fetch(id).catch((err) => {
      this.dirty.add(id);
      throw err;
    })));
  }

  /** Fetches one container again; undefined (and dropped from the view) when the supervisor no longer has it. */
  async fetch(id: string): Promise<containersV1.Container | undefined> {
    try {
      const c = await this.upstream.getContainer(id);
      this.byId.set(c.id, c);
      return c;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.byId.delete(id);
      return undefined;
    }
  }

  all(): containersV1.Container[] {
    return [...this.byId.values()];
  }

  /**
   * The container a reference names, fresh from the supervisor: a full id known to the view is fetched by
   * id; a name or id prefix is resolved by the supervisor itself (the view may lag a create or a rename by
   * an event), and an ambiguous prefix is reported with the candidates the view knows after a full re-List.
   */
  async lookup(ref: string): Promise<containersV1.Container> {
    const r = ref.startsWith('/') ? ref.slice(1) : ref;
    if (!r) throw new ContainerNotFoundError(ref);
    await this.refresh();
    if (this.byId.has(r)) {
      const c = await this.fetch(r);
      if (!c) throw new ContainerNotFoundError(ref);
      return c;
    }
    try {
      const c = await this.upstream.getContainer(r);
      this.byId.set(c.id, c);
      return c;
    } catch (err) {
      if (isNotFound(err)) throw new ContainerNotFoundError(ref);
      if (!isFailedPrecondition(err) || !/^[0-9a-f]+$/.test(r)) throw err;
      this.invalidate();
      await this.refresh();
      const hits = [...this.byId.values()].filter((c) => c.id.startsWith(r));
      if (hits.length > 1) throw new AmbiguousContainerError(ref, hits.map((c) => `${c.id.slice(0, 12)} (${c.name})`).sort());
      throw err;
    }
  }

  /** The full id of the container a reference names. */
  async resolve(ref: string): Promise<string> {
    return (await this.lookup(ref)).id;
  }
}
