// A container's mounts as docker resolves them at create: each VolumeMount gets its type (bind for an
// absolute source, volume for a name, a new anonymous volume for an empty source, tmpfs), named volumes are
// made on first use, and every image VOLUME path (ContainerConfig.volumes) not covered by a mount gets an
// anonymous volume. At start they become OCI mounts (ociMounts), parents before children.
import * as path from 'node:path';
import { containersV1 } from '@berth/api';
import { InvalidMountError } from './errors';
import { checkVolumeName, type Volumes } from './volume-store';

type VolumeMount = containersV1.VolumeMount;

const TMPFS_OPTION_RE = /^(exec|noexec|suid|nosuid|dev|nodev|ro|rw|(uid|gid)=\d+|nr_inodes=\d+[kmg]?|size=\d+[kmg%]?|mode=[0-7]{3,4})$/;

export function emptyMount(over: Partial<VolumeMount>): VolumeMount {
  return containersV1.VolumeMount.fromPartial(over);
}

function cleanDestination(dst: string, what: string): string {
  if (!dst.startsWith('/')) throw new InvalidMountError(`${what} destination "${dst}" is not an absolute path`);
  const d = path.posix.normalize(dst).replace(/(.)\/+$/, '$1');
  if (d === '/') throw new InvalidMountError(`${what} cannot be mounted at /`);
  return d;
}

/** The type a mount has: given, or docker's inference from the source. */
export function mountType(m: Pick<VolumeMount, 'type' | 'source'>): 'bind' | 'volume' | 'tmpfs' {
  if (m.type === 'bind' || m.type === 'volume' || m.type === 'tmpfs') return m.type;
  if (m.type) throw new InvalidMountError(`invalid mount type "${m.type}": use bind, volume or tmpfs`);
  return m.source.startsWith('/') ? 'bind' : 'volume';
}

/** Checks every mount as given, without making anything. Returns them typed, destinations cleaned. */
export function validateMounts(mounts: VolumeMount[]): VolumeMount[] {
  const seen = new Set<string>();
  return mounts.map((m) => {
    const type = mountType(m);
    const destination = cleanDestination(m.destination, type === 'tmpfs' ? 'a tmpfs' : type === 'volume' ? 'a volume' : 'a bind mount');
    if (seen.has(destination)) throw new InvalidMountError(`duplicate mount point: ${destination}`);
    seen.add(destination);
    if (type !== 'tmpfs' && (m.tmpfsSize || m.tmpfsMode || m.tmpfsOptions.length)) throw new InvalidMountError(`tmpfs options given for the ${type} mount at ${destination}`);
    if (type !== 'volume' && m.noCopy) throw new InvalidMountError(`volume-nocopy given for the ${type} mount at ${destination}`);
    if (type === 'bind') {
      if (!m.source.startsWith('/')) throw new InvalidMountError(`bind source "${m.source}" is not an absolute host path`);
    } else if (type === 'volume') {
      if (m.source) checkVolumeName(m.source);
    } else {
      if (m.source) throw new InvalidMountError(`a tmpfs mount takes no source (got "${m.source}" for ${destination})`);
      if (m.tmpfsSize < 0) throw new InvalidMountError(`tmpfs size ${m.tmpfsSize} for ${destination} is negative`);
      if (m.tmpfsMode > 0o7777) throw new InvalidMountError(`tmpfs mode ${m.tmpfsMode.toString(8)} for ${destination} is not a permission mode`);
      for (const o of m.tmpfsOptions) if (!TMPFS_OPTION_RE.test(o)) throw new InvalidMountError(`invalid tmpfs option "${o}" for ${destination}`);
    }
    return { ...m, type, destination };
  });
}

/**
 * Resolves the mounts of a new container: validated, volumes made (named on first use, anonymous for an
 * empty source and for each uncovered image VOLUME path). Returns what to record and the volumes this call
 * made, which the caller removes should the create fail afterwards.
 */
export function resolveMounts(volumes: Volumes | undefined, config: containersV1.ContainerConfig, asked: VolumeMount[]): { mounts: VolumeMount[]; made: string[] } {
  const mounts = validateMounts(asked);
  const covered = new Set(mounts.map((m) => m.destination));
  for (const p of config.volumes) {
    const d = cleanDestination(p, 'an image volume');
    if (covered.has(d)) continue;
    covered.add(d);
    mounts.push(emptyMount({ type: 'volume', destination: d, fromImage: true }));
  }
  const made: string[] = [];
  if (!mounts.some((m) => m.type === 'volume')) return { mounts, made };
  if (!volumes) throw new InvalidMountError('volumes are not available in this supervisor');
  try {
    for (const m of mounts) {
      if (m.type !== 'volume') continue;
      if (!m.source) m.anonymous = true;
      const { volume, created } = volumes.create(m.source ? { name: m.source } : {});
      m.source = volume.name;
      m.volumePath = volume.mountpoint;
      if (created) made.push(volume.name);
    }
  } catch (err) {
    for (const n of made) volumes.remove(n, true);
    throw err;
  }
  return { mounts, made };
}

/** The OCI mounts of a container's recorded mounts, parents before children. */
export function ociMounts(mounts: VolumeMount[], volumeDir: (name: string) => string): Record<string, unknown>[] {
  const depth = (d: string) => d.split('/').length;
  return [...mounts].sort((a, b) => depth(a.destination) - depth(b.destination)).map((m) => {
    const type = mountType(m);
    if (type === 'tmpfs') return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(m) };
    const source = type === 'volume' ? volumeDir(m.source) : m.source;
    return { destination: m.destination, type: 'bind', source, options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'] };
  });
}

/** docker's tmpfs defaults (nosuid, nodev, noexec, mode 1777) with what was asked on top. */
export function tmpfsOptions(m: VolumeMount): string[] {
  const flags = new Map<string, string>([['suid', 'nosuid'], ['dev', 'nodev'], ['exec', 'noexec']]);
  const keyed = new Map<string, string>();
  let ro = m.readOnly;
  for (const o of m.tmpfsOptions) {
    const bare = o.startsWith('no') && flags.has(o.slice(2)) ? o.slice(2) : o;
    if (flags.has(bare)) flags.set(bare, o);
    else if (o === 'ro') ro = true;
    else if (o === 'rw') ro = false;
    else keyed.set(o.slice(0, o.indexOf('=')), o);
  }
  if (m.tmpfsSize > 0) keyed.set('size', `size=${m.tmpfsSize}`);
  if (m.tmpfsMode > 0) keyed.set('mode', `mode=${m.tmpfsMode.toString(8)}`);
  if (!keyed.has('mode')) keyed.set('mode', 'mode=1777');
  return [...flags.values(), ...keyed.values(), ro ? 'ro' : 'rw'];
}
