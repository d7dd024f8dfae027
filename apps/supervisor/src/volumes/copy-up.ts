// Docker's copy-up: a new, empty volume gets the image's content at its destination (ownership, modes,
// links and hard links kept) before the container first runs. The destination is resolved INSIDE the
// mounted rootfs, symlinks included, so an image whose VOLUME path is a link to "/" or "../../.." copies
// from the image, never from the host.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VolumeCopyUpError } from './errors';

const MAX_LINKS = 40;

/**
 * The host path of `p` inside `root`, following symlinks as the container would see them (an absolute
 * target starts again at root, ".." stops at root); undefined when a part does not exist or links loop.
 */
export function resolveInRoot(root: string, p: string): string | undefined {
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
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = fs.readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((x) => x && x !== '.'));
      continue;
    }
    done.push(c);
  }
  return path.join(root, ...done);
}

/**
 * Makes the directory `p` inside `root` (its missing parts, following links as resolveInRoot does), so the
 * runtime finds a mount point where an image link leads somewhere the image lacks, as docker makes mount
 * points in the container's layer. Returns the host path, or undefined when a part is not a directory.
 */
export function mkdirInRoot(root: string, p: string): string | undefined {
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
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(host);
    } catch {
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
    if (!st.isDirectory()) return undefined;
    done.push(c);
  }
  return path.join(root, ...done);
}

export function isEmptyDir(dir: string): boolean {
  return fs.readdirSync(dir).length === 0;
}

/**
 * Copies the image's directory at `destination` (in the mounted rootfs) into the volume's empty data
 * directory. Returns whether anything was copied: nothing when the path is missing or not a directory.
 */
export async function copyUp(rootfs: string, destination: string, data: string): Promise<boolean> {
  const src = resolveInRoot(rootfs, destination);
  if (!src) return false;
  const st = fs.lstatSync(src);
  if (!st.isDirectory()) return false;
  // cp -a: no link followed below src (-P), owners, modes, times, hard links and xattrs kept; src/. onto
  // the data directory gives it the image directory's owner and mode too, as docker's copy does.
  await new Promise<void>((resolve, reject) => {
    execFile('cp', ['-a', '--', `${src}/.`, data], (err, _out, stderr) => {
      if (err) reject(new VolumeCopyUpError(`copying the image's ${destination} into the volume failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
  return true;
}
