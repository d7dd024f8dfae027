// The rootfs domain, usable in-process (tests, the launcher) and behind the gRPC adapter: a snapshotter,
// the unpacker that fills it from image-store blobs, CommitToLayer, and the events each change raises.
import * as fs from 'node:fs';
import type { NewEvent } from '@berth/events';
import { commitToLayer, type CommittedLayer } from './commit/commit-to-layer';
import type { BlobSink } from './commit/content-writer';
import type { Change, MountSpec, RemoveOptions, SnapshotInfo, Snapshotter, Usage } from './snapshots/snapshotter';
import type { BlobSource } from './unpack/blob-source';
import { Unpacker, type LayerRef, type UnpackResult } from './unpack/unpacker';

export interface EventSink {
  publish(ev: NewEvent): unknown;
}

export interface RootfsServiceOptions {
  snapshotter: Snapshotter;
  blobs: BlobSource;
  /** Where CommitToLayer stores layer blobs. */
  blobSink: BlobSink;
  /** Scratch space for layer blobs being made (inside the state dir). */
  tmpDir: string;
  events?: EventSink;
}

export class RootfsService {
  readonly snapshotter: Snapshotter;
  readonly unpacker: Unpacker;

  constructor(private readonly opts: RootfsServiceOptions) {
    this.snapshotter = opts.snapshotter;
    this.unpacker = new Unpacker(opts.snapshotter, opts.blobs, (l) =>
      this.emit('snapshot.unpack', l.chainId, l.parent, 'committed', { image: l.image, diffId: l.layer.diffId, blob: l.layer.digest }),
    );
  }

  /** Start-up work: forget extractions a crash interrupted. */
  async recover(): Promise<number> {
    // Half-made layer blobs of an interrupted CommitToLayer.
    fs.rmSync(this.opts.tmpDir, { recursive: true, force: true });
    return this.unpacker.removeInterrupted();
  }

  private emit(topic: string, key: string, parent: string, kind: string, attributes: Record<string, string> = {}): void {
    this.opts.events?.publish({
      topic,
      subjectId: key,
      attributes: { key, ...(parent ? { parent } : {}), kind, driver: this.snapshotter.driver, ...attributes },
      body: { $case: 'snapshot', value: { key, parent, kind } },
    });
  }

  unpack(layers: LayerRef[], image = ''): Promise<UnpackResult> {
    return this.unpacker.unpack(layers, image);
  }

  async prepare(key: string, parent: string, labels: Record<string, string> = {}): Promise<MountSpec[]> {
    const mounts = await this.snapshotter.prepare(key, parent, labels);
    this.emit('snapshot.prepare', key, parent, 'active');
    return mounts;
  }

  async view(key: string, parent: string, labels: Record<string, string> = {}): Promise<MountSpec[]> {
    const mounts = await this.snapshotter.view(key, parent, labels);
    this.emit('snapshot.view', key, parent, 'view');
    return mounts;
  }

  mounts(key: string): Promise<MountSpec[]> {
    return this.snapshotter.mounts(key);
  }

  async commit(name: string, key: string, labels: Record<string, string> = {}): Promise<void> {
    const parent = (await this.snapshotter.stat(key)).parent;
    await this.snapshotter.commit(name, key, labels);
    this.emit('snapshot.commit', name, parent, 'committed', { active: key });
  }

  async remove(key: string, opts: RemoveOptions = {}): Promise<void> {
    const info = await this.snapshotter.stat(key);
    await this.snapshotter.remove(key, opts);
    this.emit('snapshot.remove', key, info.parent, info.kind, opts.force ? { force: 'true' } : {});
  }

  stat(key: string): Promise<SnapshotInfo> {
    return this.snapshotter.stat(key);
  }

  list(parent?: string): Promise<SnapshotInfo[]> {
    return this.snapshotter.list(parent);
  }

  usage(key: string): Promise<Usage> {
    return this.snapshotter.usage(key);
  }

  changes(key: string): Promise<Change[]> {
    return this.snapshotter.changes(key);
  }

  commitToLayer(key: string): Promise<CommittedLayer> {
    return commitToLayer(this.snapshotter, key, this.opts.blobSink, this.opts.tmpDir);
  }

  close(): void {
    this.snapshotter.close();
    this.opts.blobs.close?.();
  }
}
