// Changes of a snapshot against its parent, like docker diff: "A" added, "C" changed, "D" deleted.
// Two ways to find them: from an overlay upper dir (whiteouts and opaque dirs say what was deleted), or by
// comparing two full trees (the copy snapshotter).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Change, LayerChange } from '../snapshots/snapshotter';
import { findXattr, OPAQUE_XATTR } from './special-files';
import { isWhiteout, lstatOrNull, sortedNames } from './tree';

function join(rel: string, name: string): string {
  return rel === '/' ? '/' + name : rel + '/' + name;
}

/** The read-only stack below an overlay upper dir, top layer first, as overlayfs merges it. */
class LowerStack {
  constructor(
    private readonly layers: string[],
    private readonly opaque: Set<string>,
  ) {}

  /** True when some ancestor of rel (not rel itself) hides the lower layers in layer dir. */
  private blocked(layer: string, rel: string): boolean {
    let a = path.posix.dirname(rel);
    while (true) {
      const p = layer + a;
      const st = lstatOrNull(p);
      if (st && (!st.isDirectory() || this.opaque.has(p))) return true;
      if (a === '/') return false;
      a = path.posix.dirname(a);
    }
  }

  /** lstat of the path as the merged lower layers show it, or null when absent or whited out. */
  lookup(rel: string): fs.Stats | null {
    for (const layer of this.layers) {
      const st = lstatOrNull(layer + rel);
      if (st) return isWhiteout(st) ? null : st;
      if (this.blocked(layer, rel)) return null;
    }
    return null;
  }

  /** Names the merged lower layers show in directory rel. */
  children(rel: string): string[] {
    const shown = new Set<string>();
    const hidden = new Set<string>();
    for (const layer of this.layers) {
      const dir = layer + rel;
      const st = lstatOrNull(dir);
      if (st && !st.isDirectory()) break;
      if (st) {
        for (const name of sortedNames(dir)) {
          if (shown.has(name) || hidden.has(name)) continue;
          const cst = fs.lstatSync(path.join(dir, name));
          (isWhiteout(cst) ? hidden : shown).add(name);
        }
        if (this.opaque.has(dir)) break;
      } else if (this.blocked(layer, rel)) break;
    }
    return [...shown].sort();
  }
}

/** Changes recorded in an overlay upper dir over the lower layers (top first). */
export async function overlayChanges(upper: string, lowers: string[]): Promise<{ changes: LayerChange[]; deletedUnderOpaque: Map<string, string[]> }> {
  const opaqueAttrs = await findXattr([upper, ...lowers], OPAQUE_XATTR);
  const opaque = new Set([...opaqueAttrs].filter(([, v]) => v.toString() === 'y').map(([p]) => p));
  const stack = new LowerStack(lowers, opaque);
  const changes: LayerChange[] = [];
  const deletedUnderOpaque = new Map<string, string[]>();
  const visit = (rel: string, parentAdded: boolean) => {
    for (const name of sortedNames(upper + (rel === '/' ? '' : rel))) {
      const p = join(rel, name);
      const st = fs.lstatSync(upper + p);
      if (isWhiteout(st)) {
        if (!parentAdded && stack.lookup(p)) changes.push({ kind: 'D', path: p });
        continue;
      }
      const lower = parentAdded ? null : stack.lookup(p);
      const change: LayerChange = { kind: lower ? 'C' : 'A', path: p };
      if (st.isDirectory() && opaque.has(upper + p)) {
        change.opaque = true;
        if (lower?.isDirectory()) {
          const inUpper = new Set(sortedNames(upper + p));
          deletedUnderOpaque.set(p, stack.children(p).filter((n) => !inUpper.has(n)).map((n) => join(p, n)));
        }
      }
      changes.push(change);
      if (st.isDirectory()) visit(p, parentAdded || !lower || !lower.isDirectory() || change.opaque === true);
    }
  };
  visit('/', false);
  return { changes, deletedUnderOpaque };
}

/** docker diff's form of overlay changes: opaque dirs become D entries for what they hide. */
export function expandOpaque(result: { changes: LayerChange[]; deletedUnderOpaque: Map<string, string[]> }): Change[] {
  const out: Change[] = result.changes.map((c) => ({ kind: c.kind, path: c.path }));
  for (const paths of result.deletedUnderOpaque.values()) for (const p of paths) out.push({ kind: 'D', path: p });
  return sortChanges(out);
}

function sameEntry(a: fs.Stats, b: fs.Stats, aPath: string, bPath: string): boolean {
  if ((a.mode & 0o170000) !== (b.mode & 0o170000)) return false;
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  if (a.isDirectory()) return a.mtimeMs === b.mtimeMs;
  if (a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.rdev !== b.rdev) return false;
  if (a.isSymbolicLink()) return fs.readlinkSync(aPath) === fs.readlinkSync(bPath);
  return true;
}

/** Changes of a full tree against its parent's full tree (null: an empty parent). */
export function treeChanges(parent: string | null, dir: string): LayerChange[] {
  const changes: LayerChange[] = [];
  const visit = (rel: string, added: boolean) => {
    const here = dir + (rel === '/' ? '' : rel);
    const there = parent === null || added ? null : parent + (rel === '/' ? '' : rel);
    const names = sortedNames(here);
    const mine = new Set(names);
    if (there) for (const name of sortedNames(there)) if (!mine.has(name)) changes.push({ kind: 'D', path: join(rel, name) });
    for (const name of names) {
      const p = join(rel, name);
      const st = fs.lstatSync(here + '/' + name);
      const old = there ? lstatOrNull(there + '/' + name) : null;
      if (!old) changes.push({ kind: 'A', path: p });
      else if (!sameEntry(st, old, here + '/' + name, there + '/' + name)) changes.push({ kind: 'C', path: p });
      if (st.isDirectory()) visit(p, !old || !old.isDirectory());
    }
  };
  visit('/', false);
  // As overlay reports copied-up parents, and docker diff shows them: a directory holding a change is changed.
  const seen = new Set(changes.map((c) => c.path));
  for (const c of [...changes]) {
    for (let a = path.posix.dirname(c.path); a !== '/' && !seen.has(a); a = path.posix.dirname(a)) {
      seen.add(a);
      changes.push({ kind: 'C', path: a });
    }
  }
  return sortChanges(changes);
}

/** Path order in which a directory comes right before its own entries. */
export function sortChanges<T extends Change>(changes: T[]): T[] {
  const key = (p: string) => p.split('/');
  return changes.sort((a, b) => {
    const ka = key(a.path);
    const kb = key(b.path);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    }
    return ka.length - kb.length;
  });
}
