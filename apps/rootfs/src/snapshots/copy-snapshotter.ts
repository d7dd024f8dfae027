// The copy snapshotter, for hosts without overlayfs (like containerd's native snapshotter): every
// snapshot holds a full copy of its parent's tree, mounted with a bind mount. Prepare costs a copy.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InternalError } from '@berth/service-kit';
import { sortChanges, treeChanges } from '../fs/changes';
import { DirSnapshotter } from './dir-snapshotter';
import type { SnapshotRow } from './meta-store';
import type { Change, LayerChange, MountSpec } from './snapshotter';

const run = promisify(execFile);

export class CopySnapshotter extends DirSnapshotter {
  readonly driver = 'copy' as const;
  readonly whiteoutMode = 'delete' as const;

  protected needsWorkDir(): boolean {
    return false;
  }

  protected async fill(fsDir: string, _kind: string, parent: SnapshotRow | undefined): Promise<void> {
    if (!parent) return;
    try {
      // cp -a keeps owners, modes, times, hard links, device nodes and xattrs (whiteouts never exist here).
      await run('cp', ['-a', '--reflink=auto', '--', this.fsDir(parent.id) + '/.', fsDir + '/'], { maxBuffer: 1 << 20 });
    } catch (err) {
      throw new InternalError(`copying parent "${parent.key}" failed: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
  }

  protected mountsFor(row: SnapshotRow): MountSpec[] {
    return [{ type: 'bind', source: this.fsDir(row.id), target: '', options: ['rbind', row.kind === 'view' ? 'ro' : 'rw'] }];
  }

  protected async computeLayerChanges(row: SnapshotRow, parents: SnapshotRow[]): Promise<LayerChange[]> {
    const parent = parents[0];
    return treeChanges(parent ? this.fsDir(parent.id) : null, this.fsDir(row.id));
  }

  protected async computeChanges(row: SnapshotRow, parents: SnapshotRow[]): Promise<Change[]> {
    return sortChanges((await this.computeLayerChanges(row, parents)).map((c) => ({ kind: c.kind, path: c.path })));
  }
}
