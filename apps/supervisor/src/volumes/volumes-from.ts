// docker --volumes-from "container[:ro|:rw]": the new container mounts what another one mounts — its
// volumes (named and anonymous) and binds, at the same paths — read-only with ":ro", read-write with ":rw",
// as the other one has them otherwise. tmpfs mounts are the other container's own and are not shared. A
// path the new container mounts itself, or an earlier --volumes-from gave, wins.
import * as path from 'node:path';
import type { containersV1 } from '@berth/api';
import { InvalidMountError } from './errors';
import { emptyMount, mountType } from './container-mounts';

type VolumeMount = containersV1.VolumeMount;

/** "db", "db:ro" → the reference and the mode ('' keeps each mount's own). */
export function parseVolumesFrom(spec: string): { ref: string; mode: '' | 'ro' | 'rw' } {
  const [ref = '', mode = '', extra] = spec.split(':');
  if (!ref || extra !== undefined || (mode !== '' && mode !== 'ro' && mode !== 'rw')) {
    throw new InvalidMountError(`invalid --volumes-from "${spec}": use CONTAINER[:ro|:rw]`);
  }
  return { ref, mode };
}

/**
 * The mounts to add for each --volumes-from entry, in order; `lookup` finds the other container (and throws
 * NOT_FOUND for an unknown one). Shared volumes are not this container's own: removing it (rm -v, --rm)
 * leaves them, as docker does.
 */
export function mountsFrom(specs: string[], own: VolumeMount[], lookup: (ref: string) => containersV1.Container): VolumeMount[] {
  const covered = new Set(own.map((m) => path.posix.normalize(m.destination).replace(/(.)\/+$/, '$1')));
  const out: VolumeMount[] = [];
  for (const spec of specs) {
    const { ref, mode } = parseVolumesFrom(spec);
    const other = lookup(ref);
    for (const m of other.hostConfig?.volumes ?? []) {
      const type = mountType(m);
      if (type === 'tmpfs' || covered.has(m.destination)) continue;
      covered.add(m.destination);
      out.push(emptyMount({
        source: m.source, destination: m.destination, type, readOnly: mode ? mode === 'ro' : m.readOnly, volumePath: m.volumePath,
      }));
    }
  }
  return out;
}
