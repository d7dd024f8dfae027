// Mounting the rootfs specs a container was created with (rootfs Prepare's answer) at the bundle's rootfs.
import type { typesV1 } from '@berth/api';
import * as fs from 'node:fs';
import { RuntimeError } from '../errors';
import { run } from './oci-runtime';

/** Mounts each spec in order: the one with an empty target is the root, others go below it. */
export async function mountRootfs(specs: typesV1.Mount[], rootfs: string): Promise<void> {
  fs.mkdirSync(rootfs, { recursive: true });
  const done: string[] = [];
  try {
    for (const m of specs) {
      const target = m.target ? `${rootfs}/${m.target.replace(/^\/+/, '')}` : rootfs;
      const opts = [...m.options];
      if (m.type === 'bind' && !opts.includes('bind') && !opts.includes('rbind')) opts.unshift('rbind');
      const args = m.type === 'bind' ? ['-o', opts.join(','), m.source, target] : ['-t', m.type, ...(opts.length ? ['-o', opts.join(',')] : []), m.source, target];
      const r = await run('mount', args);
      if (r.code !== 0) throw new RuntimeError(`mounting the rootfs (${m.type} at ${target}) failed: ${r.stderr.trim()}`);
      done.unshift(target);
    }
  } catch (err) {
    for (const t of done) await umount(t).catch(() => undefined);
    throw err;
  }
}

export function isMountPoint(dir: string): boolean {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[4] === dir);
}

/** Unmounts everything at or below `dir` (deepest first); lazily when it stays busy. */
export async function umountAll(dir: string): Promise<void> {
  const targets = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((t): t is string => !!t && (t === dir || t.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const t of targets) await umount(t);
}

async function umount(target: string): Promise<void> {
  let r = await run('umount', [target]);
  if (r.code !== 0 && /busy/i.test(r.stderr)) r = await run('umount', ['-l', target]);
  if (r.code !== 0 && !/not mounted|no mount point/i.test(r.stderr)) throw new RuntimeError(`unmounting ${target} failed: ${r.stderr.trim()}`);
}
