// The snapshotter contract, after containerd's core/snapshots: committed snapshots are read-only layers
// (parents), active ones have one writable layer, views are read-only roots. Callers get mount specs and
// mount them themselves.

export type Kind = 'view' | 'active' | 'committed';

/** One mount, in mount(8) form (as berth.types.v1.Mount). */
export interface MountSpec {
  type: string;
  source: string;
  target: string;
  options: string[];
}

export interface SnapshotInfo {
  key: string;
  /** Key of the committed parent, '' for none. */
  parent: string;
  kind: Kind;
  createdAt: Date;
  labels: Record<string, string>;
  /** The directory holding this snapshot's own files. */
  layerDir: string;
}

export interface Usage {
  /** Bytes of disk used (allocated blocks), this snapshot's own layer only. */
  size: number;
  inodes: number;
}

export interface Change {
  kind: 'A' | 'C' | 'D';
  /** Absolute path inside the root ("/etc/passwd"). */
  path: string;
}

/**
 * A change as the layer writer needs it: like Change, plus `opaque` for a directory that hides everything
 * below it in the parents (overlay's opaque dirs; written as `.wh..wh..opq`).
 */
export interface LayerChange extends Change {
  opaque?: boolean;
}

/** How a layer's OCI whiteouts are to be written into a snapshot directory. */
export type WhiteoutMode = 'overlay' | 'delete';

/** Label naming the owner that uses a snapshot: Remove refuses it unless that owner asks or force is set. */
export const IN_USE_LABEL = 'berth.in-use';

export interface RemoveOptions {
  force?: boolean;
  /** The caller; when it is the owner named by the in-use label, no force is needed. */
  owner?: string;
}

export interface Snapshotter {
  readonly driver: 'overlay' | 'copy';
  /** How Unpack must write whiteouts into a directory of this snapshotter. */
  readonly whiteoutMode: WhiteoutMode;
  prepare(key: string, parent: string, labels?: Record<string, string>): Promise<MountSpec[]>;
  view(key: string, parent: string, labels?: Record<string, string>): Promise<MountSpec[]>;
  mounts(key: string): Promise<MountSpec[]>;
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  remove(key: string, opts?: RemoveOptions): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  /** Every snapshot, or the children of `parent`. */
  list(parent?: string): Promise<SnapshotInfo[]>;
  usage(key: string): Promise<Usage>;
  /** What the active snapshot changed against its parent, like docker diff, ordered by path. */
  changes(key: string): Promise<Change[]>;
  /** The same for writing a layer: whiteouts and opaque dirs as the layer writer needs them. */
  layerChanges(key: string): Promise<LayerChange[]>;
  /** The directory whose files back the active snapshot's A and C changes. */
  contentDir(key: string): Promise<string>;
  close(): void;
}
