// docker's mount flags: -v (bind, named or anonymous volume), --mount (type=bind|volume|tmpfs with its
// key=value list) and --tmpfs (/dst[:options]), each turned into the supervisor's VolumeMount.
import * as path from 'node:path';
import type { containersV1 } from '@berth/api';
import { UsageError } from '../cli-error';
import { parseBytes } from './flags';

export type MountSpec = containersV1.VolumeMount;

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const TMPFS_FLAGS = new Set(['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'ro', 'rw']);

export function mountSpec(over: Partial<MountSpec>): MountSpec {
  return {
    source: '', destination: '', readOnly: false, type: '', noCopy: false, tmpfsSize: 0, tmpfsMode: 0, tmpfsOptions: [],
    anonymous: false, fromImage: false, volumePath: '', ...over,
  };
}

/**
 * -v /host:/ctr[:opts] (bind), -v name:/ctr[:opts] (named volume, made on first use), -v /ctr (a new
 * anonymous volume). Options: ro, rw, z, Z, nocopy (volumes).
 */
export function parseVolume(value: string): MountSpec {
  const bad = (why: string) => new UsageError(`invalid volume "${value}" for -v: ${why}`);
  const parts = value.split(':');
  if (parts.length === 1) {
    if (!path.isAbsolute(value)) throw bad('use /host/path:/container/path[:ro], name:/container/path[:ro] or /container/path');
    return mountSpec({ type: 'volume', destination: path.normalize(value) });
  }
  if (parts.length > 3) throw bad('too many colons; use source:/container/path[:ro]');
  const [source, destination, mode = 'rw'] = parts as [string, string, string?];
  if (!source) throw bad('the source is empty');
  const bind = path.isAbsolute(source);
  if (!bind && !VOLUME_NAME.test(source)) throw bad(`"${source}" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)`);
  if (!path.isAbsolute(destination)) throw bad(`the destination "${destination}" must be an absolute path`);
  const opts = mode.split(',');
  for (const o of opts) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy'].includes(o)) throw bad(`unknown mode "${o}" (use ro, rw or nocopy)`);
    if (o === 'nocopy' && bind) throw bad('nocopy is for volumes, not host paths');
  }
  if (opts.includes('ro') && opts.includes('rw')) throw bad('both ro and rw given');
  return mountSpec({
    type: bind ? 'bind' : 'volume', source: bind ? path.normalize(source) : source, destination: path.normalize(destination),
    readOnly: opts.includes('ro'), noCopy: opts.includes('nocopy'),
  });
}

function boolValue(key: string, v: string | undefined, bad: (why: string) => UsageError): boolean {
  if (v === undefined || ['true', '1'].includes(v)) return true;
  if (['false', '0'].includes(v)) return false;
  throw bad(`${key} takes true or false, not "${v}"`);
}

/** Octal permission bits ("1770", "700"). */
function parseMode(v: string, bad: (why: string) => UsageError): number {
  if (!/^[0-7]{1,4}$/.test(v)) throw bad(`invalid mode "${v}": use octal permission bits, e.g. 1770`);
  return parseInt(v, 8);
}

/** --mount type=bind|volume|tmpfs,source=...,target=...,readonly,volume-nocopy,tmpfs-size=...,tmpfs-mode=... */
export function parseMount(value: string): MountSpec {
  const bad = (why: string) => new UsageError(`invalid argument "${value}" for "--mount" flag: ${why}`);
  const m = mountSpec({ type: 'volume' });
  let target = '';
  for (const field of value.split(',')) {
    if (!field) continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    const need = () => {
      if (v === undefined || v === '') throw bad(`${key} needs a value`);
      return v;
    };
    switch (key) {
      case 'type': {
        const t = need();
        if (!['bind', 'volume', 'tmpfs'].includes(t)) throw bad(`unknown type "${t}": use bind, volume or tmpfs`);
        m.type = t;
        break;
      }
      case 'source': case 'src':
        m.source = need();
        break;
      case 'target': case 'destination': case 'dst':
        target = need();
        break;
      case 'readonly': case 'ro':
        m.readOnly = boolValue(key, v, bad);
        break;
      case 'volume-nocopy':
        m.noCopy = boolValue(key, v, bad);
        break;
      case 'tmpfs-size':
        try {
          m.tmpfsSize = parseBytes(need(), 'tmpfs-size');
        } catch (e) {
          throw bad((e as Error).message);
        }
        break;
      case 'tmpfs-mode':
        m.tmpfsMode = parseMode(need(), bad);
        break;
      case 'volume-driver':
        if (need() !== 'local') throw bad(`unknown volume driver "${v}": only local is supported`);
        break;
      case 'consistency':
        break;
      case 'bind-propagation':
        if (need() !== 'rprivate') throw bad(`bind-propagation "${v}" is not supported (only rprivate)`);
        break;
      default:
        throw bad(`unknown option "${key}"`);
    }
  }
  if (!target) throw bad('target is required');
  if (!path.isAbsolute(target)) throw bad(`the target "${target}" must be an absolute path`);
  m.destination = path.normalize(target);
  if (m.type === 'bind') {
    if (!m.source) throw bad('a bind mount needs a source');
    if (!path.isAbsolute(m.source)) throw bad(`the bind source "${m.source}" must be an absolute host path`);
    m.source = path.normalize(m.source);
  }
  if (m.type === 'volume' && m.source && !VOLUME_NAME.test(m.source)) throw bad(`invalid volume name "${m.source}"`);
  if (m.type === 'tmpfs' && m.source) throw bad('a tmpfs mount takes no source');
  if (m.type !== 'tmpfs' && (m.tmpfsSize || m.tmpfsMode)) throw bad(`tmpfs options are for type=tmpfs, not ${m.type}`);
  if (m.type !== 'volume' && m.noCopy) throw bad(`volume-nocopy is for type=volume, not ${m.type}`);
  return m;
}

/** --tmpfs /dst[:opt,opt]: size= and mode= go to their fields, the rest (exec, uid=...) stays as options. */
export function parseTmpfs(value: string): MountSpec {
  const bad = (why: string) => new UsageError(`invalid argument "${value}" for "--tmpfs" flag: ${why}`);
  const i = value.indexOf(':');
  const dst = i < 0 ? value : value.slice(0, i);
  if (!path.isAbsolute(dst)) throw bad(`the destination "${dst}" must be an absolute path`);
  const m = mountSpec({ type: 'tmpfs', destination: path.normalize(dst) });
  for (const o of i < 0 ? [] : value.slice(i + 1).split(',').filter(Boolean)) {
    if (o.startsWith('size=')) m.tmpfsSize = parseBytes(o.slice(5), '--tmpfs size');
    else if (o.startsWith('mode=')) m.tmpfsMode = parseMode(o.slice(5), bad);
    else if (TMPFS_FLAGS.has(o) || /^(uid|gid)=\d+$/.test(o) || /^nr_inodes=\d+[kmg]?$/.test(o)) m.tmpfsOptions.push(o);
    else throw bad(`unknown option "${o}"`);
  }
  return m;
}
