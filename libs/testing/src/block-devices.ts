// The whole disk a path lives on (a partition's parent), for tests that set per-device blkio rules.
import * as fs from 'node:fs';

export interface BlockDevice {
  /** Host device path, e.g. /dev/vda. */
  path: string;
  /** "major:minor" as the blkio cgroup files name it. */
  numbers: string;
}

export function wholeDiskOf(p: string): BlockDevice {
  const dev = fs.statSync(p).dev;
  const id = `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
  let sys = fs.realpathSync(`/sys/dev/block/${id}`);
  if (fs.existsSync(`${sys}/partition`)) sys = fs.realpathSync(`${sys}/..`);
  return { path: `/dev/${sys.split('/').pop()}`, numbers: fs.readFileSync(`${sys}/dev`, 'utf8').trim() };
}
