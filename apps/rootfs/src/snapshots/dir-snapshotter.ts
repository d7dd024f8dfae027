// What the overlay and copy snapshotters share: metadata, directory layout and crash safety.
//
// Layout: <stateDir>/meta.db and <stateDir>/snapshots/<id>/{fs,work}. A new snapshot's directories are
// made under a temporary name, then renamed to <id> inside the transaction that records it; a removed
// one is renamed away inside the transaction that forgets it and deleted afterwards. A crash at any point
// leaves either a record with its directory, or a directory without a record, which start-up deletes.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  InvalidKeyError,
  ParentNotCommittedError,
  SnapshotExistsError,
  SnapshotHasChildrenError,
  SnapshotInUseError,
  SnapshotNotFoundError,
  WrongKindError,
} from '../errors';
import { diskUsage } from '../fs/tree';
import { MetaStore, type SnapshotRow } from './meta-store';
import {
  IN_USE_LABEL,
  type Change,
  type Kind,
  type LayerChange,
  type MountSpec,
  type RemoveOptions,
  type SnapshotInfo,
  type Snapshotter,
  type Usage,
  type WhiteoutMode,
} from './snapshotter';

const TEMP_PREFIX = 'new-';
const REMOVED_PREFIX = 'rm-';

export function validateKey(key: string): void {
  if (!key) throw new InvalidKeyError(key, 'it is empty');
  if (Buffer.byteLength(key) > 512) throw new InvalidKeyError(key.slice(0, 40) + '…', 'it is longer than 512 bytes');
  if (/[\x00-\x1f\x7f]/.test(key)) throw new InvalidKeyError(key, 'it contains control characters');
}

export abstract class DirSnapshotter implements Snapshotter {
  abstract readonly driver: 'overlay' | 'copy';
  abstract readonly whiteoutMode: WhiteoutMode;
  protected readonly meta: MetaStore;
  protected readonly snapshotsDir: string;

  constructor(readonly stateDir: string) {
    this.snapshotsDir = path.join(stateDir, 'snapshots');
    fs.mkdirSync(this.snapshotsDir, { recursive: true, mode: 0o700 });
    this.meta = new MetaStore(path.join(stateDir, 'meta.db'));
    this.removeOrphans();
  }

  /** Mount specs of a view or active snapshot whose parents (top first) are given. */
  protected abstract mountsFor(row: SnapshotRow, parents: SnapshotRow[]): MountSpec[];
  /** Fills a new snapshot's (still temporary) fs directory before it is recorded. */
  protected abstract fill(fsDir: string, kind: Kind, parent: SnapshotRow | undefined): Promise<void>;
  protected abstract computeChanges(row: SnapshotRow, parents: SnapshotRow[]): Promise<Change[]>;
  protected abstract computeLayerChanges(row: SnapshotRow, parents: SnapshotRow[]): Promise<LayerChange[]>;
  /** Refuses a parent chain (nearest first) this snapshotter could not mount. */
  protected checkParents(_parent: string, _chain: SnapshotRow[]): void {}
  /** Whether a snapshot of this kind gets a work dir (overlay's, next to the upper dir). */
  protected abstract needsWorkDir(kind: Kind): boolean;

  fsDir(id: number): string {
    return path.join(this.snapshotsDir, String(id), 'fs');
  }

  workDir(id: number): string {
    return path.join(this.snapshotsDir, String(id), 'work');
  }

  /** Directories without a record: left by a crash between making and recording, or after forgetting. */
  private removeOrphans(): void {
    const ids = this.meta.ids();
    for (const name of fs.readdirSync(this.snapshotsDir)) {
      const orphan = name.startsWith(TEMP_PREFIX) || name.startsWith(REMOVED_PREFIX) || (/^\d+$/.test(name) && !ids.has(Number(name)));
      if (orphan) fs.rmSync(path.join(this.snapshotsDir, name), { recursive: true, force: true });
    }
  }

  protected row(key: string): SnapshotRow {
    const row = this.meta.get(key);
    if (!row) throw new SnapshotNotFoundError(key);
    return row;
  }

  /** The parent chain of a row, nearest first. */
  protected parents(row: SnapshotRow): SnapshotRow[] {
    const out: SnapshotRow[] = [];
    for (let p = row.parent; p; ) {
      const r = this.row(p);
      out.push(r);
      p = r.parent;
    }
    return out;
  }

  private async create(kind: 'active' | 'view', key: string, parent: string, labels: Record<string, string>): Promise<MountSpec[]> {
    validateKey(key);
    if (this.meta.get(key)) throw new SnapshotExistsError(key);
    let parentRow: SnapshotRow | undefined;
    if (parent) {
      parentRow = this.row(parent);
      if (parentRow.kind !== 'committed') throw new ParentNotCommittedError(parent, parentRow.kind);
      this.checkParents(parent, [parentRow, ...this.parents(parentRow)]);
    }
    const temp = path.join(this.snapshotsDir, TEMP_PREFIX + randomBytes(8).toString('hex'));
    try {
      fs.mkdirSync(path.join(temp, 'fs'), { recursive: true, mode: 0o755 });
      if (this.needsWorkDir(kind)) fs.mkdirSync(path.join(temp, 'work'), { mode: 0o700 });
      await this.fill(path.join(temp, 'fs'), kind, parentRow);
      const row = this.meta.tx(() => {
        if (this.meta.get(key)) throw new SnapshotExistsError(key);
        if (parent) {
          const p = this.meta.get(parent);
          if (!p) throw new SnapshotNotFoundError(parent);
          if (p.kind !== 'committed') throw new ParentNotCommittedError(parent, p.kind);
        }
        const id = this.meta.insert({ key, parent, kind, labels });
        const dest = path.join(this.snapshotsDir, String(id));
        // An orphan left under this id (a crash after the rename, before the commit) is not ours.
        fs.rmSync(dest, { recursive: true, force: true });
        fs.renameSync(temp, dest);
        return this.meta.get(key)!;
      });
      return this.mountsFor(row, this.parents(row));
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }

  prepare(key: string, parent: string, labels: Record<string, string> = {}): Promise<MountSpec[]> {
    return this.create('active', key, parent, labels);
  }

  view(key: string, parent: string, labels: Record<string, string> = {}): Promise<MountSpec[]> {
    return this.create('view', key, parent, labels);
  }

  async mounts(key: string): Promise<MountSpec[]> {
    const row = this.row(key);
    if (row.kind === 'committed') throw new WrongKindError(key, 'committed', 'an active snapshot or a view');
    return this.mountsFor(row, this.parents(row));
  }

  async commit(name: string, key: string, labels: Record<string, string> = {}): Promise<void> {
    validateKey(name);
    this.meta.tx(() => {
      const row = this.row(key);
      if (row.kind !== 'active') throw new WrongKindError(key, row.kind, 'an active snapshot');
      if (this.meta.get(name)) throw new SnapshotExistsError(name);
      this.meta.rename(row.id, name, 'committed', { ...row.labels, ...labels });
    });
  }

  async remove(key: string, opts: RemoveOptions = {}): Promise<void> {
    const moved = this.meta.tx(() => {
      const row = this.row(key);
      const children = this.meta.children(key);
      if (children.length > 0) throw new SnapshotHasChildrenError(key, children);
      const owner = row.labels[IN_USE_LABEL];
      if (owner && !opts.force && opts.owner !== owner) throw new SnapshotInUseError(key, owner);
      this.meta.delete(row.id);
      const dest = path.join(this.snapshotsDir, `${REMOVED_PREFIX}${row.id}-${randomBytes(4).toString('hex')}`);
      try {
        fs.renameSync(path.join(this.snapshotsDir, String(row.id)), dest);
      } catch (err) {
        // A directory someone already deleted by hand must not keep its record alive forever.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return dest;
    });
    await fs.promises.rm(moved, { recursive: true, force: true });
  }

  protected info(row: SnapshotRow): SnapshotInfo {
    return { key: row.key, parent: row.parent, kind: row.kind, createdAt: row.createdAt, labels: row.labels, layerDir: this.fsDir(row.id) };
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return this.info(this.row(key));
  }

  async list(parent?: string): Promise<SnapshotInfo[]> {
    return this.meta.list(parent).map((r) => this.info(r));
  }

  async usage(key: string): Promise<Usage> {
    // The layer only: overlay's work dir holds nothing once a change is done.
    return diskUsage(this.fsDir(this.row(key).id));
  }

  private activeRow(key: string): SnapshotRow {
    const row = this.row(key);
    if (row.kind !== 'active') throw new WrongKindError(key, row.kind, 'an active snapshot');
    return row;
  }

  async changes(key: string): Promise<Change[]> {
    const row = this.activeRow(key);
    return this.computeChanges(row, this.parents(row));
  }

  async layerChanges(key: string): Promise<LayerChange[]> {
    const row = this.activeRow(key);
    return this.computeLayerChanges(row, this.parents(row));
  }

  async contentDir(key: string): Promise<string> {
    return this.fsDir(this.activeRow(key).id);
  }

  close(): void {
    this.meta.close();
  }
}
