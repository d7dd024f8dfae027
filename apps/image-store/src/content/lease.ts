// A lease keeps blobs alive while an import or pull that has not yet recorded its image uses them; on
// release, the blobs it created that no image references are removed.
import type { ContentStore } from './content-store';

/** Keeps blobs alive while an import or pull that has not yet recorded its image uses them. */
export class Lease {
  readonly touched = new Set<string>();
  readonly created = new Set<string>();
  private released = false;
  constructor(private readonly store: ContentStore) {}

  add(digest: string, created: boolean): void {
    if (this.released) throw new Error('lease already released');
    if (!this.touched.has(digest)) {
      this.touched.add(digest);
      this.store.holdLease(digest);
    }
    if (created) this.created.add(digest);
  }

  /** Drops the lease; blobs this lease created that no image references are removed. */
  release(): string[] {
    if (this.released) return [];
    this.released = true;
    for (const d of this.touched) this.store.dropLease(d);
    return this.store.collect([...this.created, ...this.store.takePending(this.touched)]);
  }
}
