// Names inside an archive are checked before anything is read: no absolute paths, no "..", and the
// blob paths of an image archive may not be links.
import * as path from 'node:path';
import { UnsafeArchivePathError } from '../errors';

/** The entry name without "./" and trailing "/", or an error naming why it is refused. */
export function cleanEntryName(name: string): string {
  if (name.includes('\0')) throw new UnsafeArchivePathError(name, 'NUL byte in name');
  if (name.startsWith('/')) throw new UnsafeArchivePathError(name, 'absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeArchivePathError(name, 'path traversal ("..")');
  return parts.join('/');
}

/** Where a symlink inside the archive points, relative to the archive root; refused when it escapes. */
export function resolveLinkTarget(name: string, target: string): string {
  if (target.startsWith('/')) throw new UnsafeArchivePathError(name, `link to absolute path "${target}"`);
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(name), target));
  if (joined === '..' || joined.startsWith('../')) throw new UnsafeArchivePathError(name, `link "${target}" points outside the archive`);
  return joined;
}

export function isOciBlobPath(name: string): boolean {
  return name.startsWith('blobs/');
}
