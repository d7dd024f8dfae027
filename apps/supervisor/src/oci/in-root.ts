// Paths inside a container's mounted rootfs, resolved as the container would see them: symlinks followed,
// an absolute target starting again at the root and ".." stopping there. Anything berth reads from or
// makes in an image (its /etc/passwd, a VOLUME path to copy up, a mount point) goes through here, so an
// image's link to "/" or "../../.." reaches the image's own files, never the host's.
import * as fs from 'node:fs';
import * as path from 'node:path';

const MAX_LINKS = 40;

/** Walks `p` inside `root`; `make`: missing parts are made as directories and every part must be one. */
function walk(root: string, p: string, make: boolean): string | undefined {
  const todo = p.split('/').filter((c) => c && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, c);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      if (!make) return undefined;
      fs.mkdirSync(host, { mode: 0o755 });
      st = fs.lstatSync(host);
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = fs.readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((x) => x && x !== '.'));
      continue;
    }
    if (make && !st.isDirectory()) return undefined;
    done.push(c);
  }
  return path.join(root, ...done);
}

/** The host path of `p` inside `root`; undefined when a part does not exist or links loop. */
export function resolveInRoot(root: string, p: string): string | undefined {
  return walk(root, p, false);
}

/**
 * Makes the directory `p` inside `root` (its missing parts, through links), so the runtime finds a mount
 * point where an image link leads somewhere the image lacks, as docker makes mount points in the
 * container's layer. Returns the host path, or undefined when a part is not a directory.
 */
export function mkdirInRoot(root: string, p: string): string | undefined {
  return walk(root, p, true);
}
