// The overlay snapshotter (default): a committed snapshot is a layer directory; an active one is an empty
// upper dir plus a work dir, mounted as overlay over its parents' layer dirs. Prepare copies nothing.
import { TooManyLayersError } from '../errors';
import { expandOpaque, overlayChanges } from '../fs/changes';
import { DirSnapshotter } from './dir-snapshotter';
import type { SnapshotRow } from './meta-store';
import type { Change, Kind, LayerChange, MountSpec } from './snapshotter';

export class OverlaySnapshotter extends DirSnapshotter {
  readonly driver = 'overlay' as const;
  readonly whiteoutMode = 'overlay' as const;

  protected needsWorkDir(kind: Kind): boolean {
    return kind === 'active';
  }

  protected override checkParents(parent: string, chain: SnapshotRow[]): void {
    // lowerdir plus upperdir, workdir and index=off, each about as long as one layer path.
    const bytes = chain.reduce((n, r) => n + this.fsDir(r.id).length + 1, 0) + 3 * (this.fsDir(0).length + 16);
    if (bytes > 4096) throw new TooManyLayersError(parent, chain.length, bytes);
  }

  protected async fill(): Promise<void> {
    // Nothing to copy: the parents stay where they are.
  }

  protected mountsFor(row: SnapshotRow, parents: SnapshotRow[]): MountSpec[] {
    const lowers = parents.map((p) => this.fsDir(p.id));
    if (row.kind === 'view') {
      // overlay needs two lower dirs without an upper dir; one read-only layer is a plain bind mount.
      if (lowers.length === 0) return [{ type: 'bind', source: this.fsDir(row.id), target: '', options: ['rbind', 'ro'] }];
      if (lowers.length === 1) return [{ type: 'bind', source: lowers[0]!, target: '', options: ['rbind', 'ro'] }];
      return [{ type: 'overlay', source: 'overlay', target: '', options: [`lowerdir=${lowers.join(':')}`] }];
    }
    if (lowers.length === 0) return [{ type: 'bind', source: this.fsDir(row.id), target: '', options: ['rbind', 'rw'] }];
    return [
      {
        type: 'overlay',
        source: 'overlay',
        target: '',
        options: ['index=off', `workdir=${this.workDir(row.id)}`, `upperdir=${this.fsDir(row.id)}`, `lowerdir=${lowers.join(':')}`],
      },
    ];
  }

  private async raw(row: SnapshotRow, parents: SnapshotRow[]) {
    return overlayChanges(this.fsDir(row.id), parents.map((p) => this.fsDir(p.id)));
  }

  protected async computeChanges(row: SnapshotRow, parents: SnapshotRow[]): Promise<Change[]> {
    return expandOpaque(await this.raw(row, parents));
  }

  protected async computeLayerChanges(row: SnapshotRow, parents: SnapshotRow[]): Promise<LayerChange[]> {
    return (await this.raw(row, parents)).changes;
  }
}
