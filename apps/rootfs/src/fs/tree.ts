// Directory walks: disk usage of one snapshot layer, and sorted listings.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** An overlay whiteout: a character device with device number 0:0. */
export function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

export function sortedNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

/** Bytes allocated and inodes used under dir (the dir included), hard links counted once, like du. */
export async function diskUsage(dir: string): Promise<{ size: number; inodes: number }> {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const st = await fs.promises.lstat(p, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) continue;
    seen.add(id);
    inodes++;
    size += Number(st.blocks) * 512;
    if (st.isDirectory()) for (const name of await fs.promises.readdir(p)) stack.push(path.join(p, name));
  }
  return { size, inodes };
}
