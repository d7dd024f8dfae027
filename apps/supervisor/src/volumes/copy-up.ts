// Docker's copy-up: a new, empty volume gets the image's content at its destination (ownership, modes,
// links and hard links kept) before the container first runs. The destination is resolved INSIDE the
// mounted rootfs, symlinks included, so an image whose VOLUME path is a link to "/" or "../../.." copies
// from the image, never from the host.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveInRoot } from '../oci/in-root';
import { VolumeCopyUpError } from './errors';

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
