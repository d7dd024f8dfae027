// Garbage collection of container snapshots: when the supervisor destroys a container (a detached `--rm`
// container it removes on its own, or any delete), the writable snapshot the SDK prepared for it, labelled
// berth.container=<container id>, goes too. Nobody else would remove it: the client that made it may be
// long gone.
//
// Events come from a durable JetStream consumer, so destroys published while this service was down are
// delivered when it is back (as long as the stream still holds them: 7 days / 1 GiB by default). A destroy
// the stream no longer has, or a NATS store that was wiped, leaves the snapshot until `berth system prune`
// (the SDK's pruneOrphanSnapshots), which compares snapshots with the supervisor's containers; start-up does
// no such sweep here because rootfs cannot ask the supervisor without depending on it.
import * as fs from 'node:fs';
import type { Logger } from '@berth/service-kit';
import { SnapshotNotFoundError } from '../errors';
import type { RootfsService } from '../rootfs-service';

/** The label the SDK puts on a container's writable snapshot (libs/client CONTAINER_LABEL). */
export const CONTAINER_LABEL = 'berth.container';
/**
 * The durable consumer's name on the BERTH_EVENTS stream, one per node: two rootfs processes of one node on
 * one stream would share it and each see only part of the events; other nodes' destroys match nothing here.
 */
export function gcConsumerName(node: string): string {
  return `rootfs-container-snapshot-gc-${node.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
/** Only the supervisor's word that a container is gone counts. */
export const DESTROY_SOURCE = 'supervisor';

/** The envelope fields the collector reads (@berth/events Envelope has them). */
export interface DestroyEvent {
  topic: string;
  source: string;
  subjectId: string;
}

/** What the collector needs of the event bus (EventBus.consumeDurable). */
export interface DurableEvents {
  consumeDurable(name: string, filter: string, handler: (ev: { envelope: DestroyEvent }) => Promise<void> | void, signal?: AbortSignal): Promise<void>;
}

export interface ContainerSnapshotGcOptions {
  rootfs: Pick<RootfsService, 'list' | 'remove'>;
  log?: Pick<Logger, 'info' | 'warn'>;
  /** /proc/self/mountinfo's text (tests pass their own). */
  mountInfo?: () => string;
  /** Wait before consuming again after the consumer failed (NATS away). */
  retryDelayMs?: number;
  /** This node's name (the consumer is named after it). */
  node?: string;
}

export interface GcResult {
  removed: string[];
  /** Keys kept because they are still mounted somewhere on this host. */
  mounted: string[];
}

export class ContainerSnapshotGc {
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: ContainerSnapshotGcOptions) {}

  /** Removes the active snapshots labelled as the writable layer of container `containerId`. */
  async containerDestroyed(containerId: string): Promise<GcResult> {
    const result: GcResult = { removed: [], mounted: [] };
    if (!containerId) return result;
    const mine = (await this.opts.rootfs.list()).filter((s) => s.kind === 'active' && s.labels[CONTAINER_LABEL] === containerId);
    if (mine.length === 0) return result;
    const mounts = (this.opts.mountInfo ?? readMountInfo)();
    for (const s of mine) {
      // The supervisor unmounts before it destroys; a mount still there means someone uses the files.
      if (isMounted(mounts, s.layerDir)) {
        this.opts.log?.warn({ key: s.key, containerId }, 'container snapshot still mounted; kept (system prune removes it later)');
        result.mounted.push(s.key);
        continue;
      }
      try {
        await this.opts.rootfs.remove(s.key, { force: true });
        result.removed.push(s.key);
      } catch (err) {
        // The client's own rm may have been quicker.
        if (!(err instanceof SnapshotNotFoundError)) throw err;
      }
    }
    if (result.removed.length) this.opts.log?.info({ containerId, keys: result.removed }, 'removed the snapshot of a destroyed container');
    return result;
  }

  /** Handles one event; never throws, so one bad snapshot cannot stall the consumer. */
  async handle(ev: DestroyEvent): Promise<GcResult | undefined> {
    if (ev.topic !== 'container.destroy' || ev.source !== DESTROY_SOURCE) return undefined;
    try {
      return await this.containerDestroyed(ev.subjectId);
    } catch (err) {
      this.opts.log?.warn({ containerId: ev.subjectId, err: (err as Error).message }, 'could not remove the snapshot of a destroyed container');
      return undefined;
    }
  }

  /** Consumes container.destroy events until stop(); a failed consumer is started again after a pause. */
  start(bus: DurableEvents): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = (async () => {
      while (!abort.signal.aborted) {
        try {
          await bus.consumeDurable(gcConsumerName(this.opts.node ?? 'local'), 'container.destroy', async (ev) => void (await this.handle(ev.envelope)), abort.signal);
        } catch (err) {
          if (abort.signal.aborted) break;
          this.opts.log?.warn({ err: (err as Error).message }, 'container.destroy consumer failed; retrying');
        }
        if (!abort.signal.aborted) await sleep(this.opts.retryDelayMs ?? 1000, abort.signal);
      }
    })();
  }

  /** Stops consuming; resolves once the event in hand (if any) is done, or after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.abort?.abort();
    // An abort during the consumer's own set-up is not seen by it: do not hold the service's shutdown.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.loop = undefined;
  }
}

function readMountInfo(): string {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

/** mountinfo escapes space, tab, newline and backslash in paths as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Whether a snapshot's layer directory is in use by a mount: as an overlay's upper dir (overlay driver) or as
 * the root of a bind mount (copy driver, or an active snapshot without parent). The bind check only sees
 * mounts whose root is given from the filesystem's own root, i.e. the state dir on the same filesystem as
 * its mount point's root (true for the usual /var/lib/berth on /).
 */
export function isMounted(mountInfo: string, layerDir: string): boolean {
  for (const line of mountInfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const root = unescape(fields[3] ?? '');
    if (root === layerDir) return true;
    const superOpts = (fields[dash + 3] ?? '').split(',').map(unescape);
    if (superOpts.includes(`upperdir=${layerDir}`)) return true;
  }
  return false;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
