// The volumes of docker's "local" driver: <stateDir>/volumes/<name>/_data holds the data and
// <name>/volume.json the record (written atomically, after the data directory: a directory without it is a
// create cut short and is cleared at open). Usable in-process; grpc/volumes-grpc.ts is the thin adapter.
// Which containers use a volume is the container manager's to say (the `users` callback), so a volume in
// use by any container, running or not, is never removed.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeyedMutex } from '../keyed-mutex';
import { readJson, writeJsonAtomic } from '../network/state-files';
import {
  InvalidVolumeFilterError, InvalidVolumeNameError, UnknownVolumeDriverError, VolumeInUseError, VolumeNotFoundError, VolumeOptionsError,
} from './errors';
import { publishVolumeEvent, type VolumeEventExtra, type VolumeEventSink } from './volume-events';

// Docker's pattern, and at most 255 characters: the name is a directory name (NAME_MAX).
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,254}$/;
const RECORD = 'volume.json';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  createdAt: string;
  labels: Record<string, string>;
  anonymous: boolean;
}

export interface VolumeInfo extends VolumeRecord {
  mountpoint: string;
  /** Ids of the containers using it. */
  containers: string[];
  /** Bytes of its data (only when asked for). */
  size: number;
}

export interface CreateVolumeOptions {
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  driverOpts?: Record<string, string>;
}

export interface ListVolumeFilters {
  /** 'true', 'false' or '' (both). */
  dangling?: string;
  /** Name contains one of these. */
  names?: string[];
  /** "key" or "key=value"; all must match. */
  labels?: string[];
}

export interface VolumesOptions {
  /** <BERTH_ROOT>/supervisor: volumes go under its volumes/. */
  stateDir: string;
  events?: VolumeEventSink | undefined;
  /** Ids of the containers whose mounts use the volume; none until the manager is wired in. */
  users?: (name: string) => string[];
}

export function checkVolumeName(name: string): string {
  if (!NAME_RE.test(name)) throw new InvalidVolumeNameError(name);
  return name;
}

/** Bytes under a directory, each inode counted once (hard links), symlinks as their own size. */
export function diskUsage(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (!seen.has(key)) {
        seen.add(key);
        total += st.size;
      }
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return total;
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return w in labels;
    return labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

export class Volumes {
  readonly root: string;
  /** Per volume: two containers starting with the same new volume copy the image into it once. */
  readonly copyLock = new KeyedMutex();
  private users: (name: string) => string[];

  constructor(private readonly opts: VolumesOptions) {
    this.root = path.join(opts.stateDir, 'volumes');
    this.users = opts.users ?? (() => []);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o701 });
    this.clearLeftovers();
  }

  /** The container manager tells which containers use a volume (set once both exist). */
  setUsers(users: (name: string) => string[]): void {
    this.users = users;
  }

  dir(name: string): string {
    return path.join(this.root, name);
  }

  mountpoint(name: string): string {
    return path.join(this.root, name, '_data');
  }

  /** Directories of creates or removes cut short by a crash. */
  private clearLeftovers(): void {
    for (const n of fs.readdirSync(this.root)) {
      const d = path.join(this.root, n);
      if (n.startsWith('.removing-') || !fs.existsSync(path.join(d, RECORD))) fs.rmSync(d, { recursive: true, force: true });
    }
  }

  private record(name: string): VolumeRecord | undefined {
    if (!NAME_RE.test(name)) return undefined;
    return readJson<VolumeRecord>(path.join(this.dir(name), RECORD));
  }

  exists(name: string): boolean {
    return this.record(name) !== undefined;
  }

  private info(r: VolumeRecord, withSize: boolean): VolumeInfo {
    return { ...r, labels: { ...r.labels }, mountpoint: this.mountpoint(r.name), containers: this.users(r.name), size: withSize ? diskUsage(this.mountpoint(r.name)) : 0 };
  }

  /**
   * Makes a volume; an existing name is returned as it is (docker's create is idempotent). `created` says
   * whether this call made it.
   */
  create(o: CreateVolumeOptions = {}): { volume: VolumeInfo; created: boolean } {
    const driver = o.driver || 'local';
    if (driver !== 'local') throw new UnknownVolumeDriverError(driver);
    const optKeys = Object.keys(o.driverOpts ?? {});
    if (optKeys.length) throw new VolumeOptionsError(optKeys);
    const anonymous = !o.name;
    const name = o.name ? checkVolumeName(o.name) : randomBytes(32).toString('hex');
    const existing = this.record(name);
    if (existing) return { volume: this.info(existing, false), created: false };
    const rec: VolumeRecord = { name, driver: 'local', createdAt: new Date().toISOString(), labels: { ...(o.labels ?? {}) }, anonymous };
    const dir = this.dir(name);
    try {
      fs.mkdirSync(dir, { mode: 0o701 });
      // Docker's _data is root-owned 0755; the image's copy-up may change it.
      fs.mkdirSync(path.join(dir, '_data'), { mode: 0o755 });
      writeJsonAtomic(path.join(dir, RECORD), rec);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && this.record(name)) return { volume: this.info(this.record(name)!, false), created: false };
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    publishVolumeEvent(this.opts.events, 'volume.create', rec.name);
    return { volume: this.info(rec, false), created: true };
  }

  /** Publishes an event about a volume (mount and unmount come from the containers' runs). */
  publish(topic: string, name: string, extra: VolumeEventExtra = {}): void {
    publishVolumeEvent(this.opts.events, topic, name, extra);
  }

  inspect(name: string): VolumeInfo {
    const r = this.record(name);
    if (!r) throw new VolumeNotFoundError(name);
    return this.info(r, true);
  }

  list(f: ListVolumeFilters = {}, withSize = true): VolumeInfo[] {
    const dangling = f.dangling ?? '';
    if (!['', 'true', 'false', '1', '0'].includes(dangling)) throw new InvalidVolumeFilterError(`invalid filter dangling=${dangling}: use true or false`);
    const out: VolumeInfo[] = [];
    for (const n of fs.readdirSync(this.root).sort()) {
      if (n.startsWith('.')) continue;
      const r = this.record(n);
      if (!r) continue;
      if (f.names?.length && !f.names.some((s) => r.name.includes(s))) continue;
      if (f.labels?.length && !labelsMatch(r.labels, f.labels)) continue;
      const users = this.users(r.name);
      if ((dangling === 'true' || dangling === '1') && users.length) continue;
      if ((dangling === 'false' || dangling === '0') && !users.length) continue;
      out.push(this.info(r, withSize));
    }
    return out;
  }

  /** Removes a volume and its data; refused while a container uses it. `force`: no error when missing. */
  remove(name: string, force = false): void {
    const r = this.record(name);
    if (!r) {
      if (force) return;
      throw new VolumeNotFoundError(name);
    }
    const users = this.users(name);
    if (users.length) throw new VolumeInUseError(name, users.map((u) => u.slice(0, 12)));
    // The rename takes it out of every listing in one step; the data goes after.
    // Not named after the volume: a 255-character name would make the temp name too long.
    const gone = path.join(this.root, `.removing-${randomBytes(8).toString('hex')}`);
    fs.renameSync(this.dir(name), gone);
    fs.rmSync(gone, { recursive: true, force: true });
    publishVolumeEvent(this.opts.events, 'volume.destroy', name);
  }

  /** Removes the unused volumes: anonymous ones only unless `all`. Returns their names and bytes. */
  prune(all = false, labels: string[] = []): { deleted: string[]; reclaimed: number } {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.list({ dangling: 'true', labels }, false)) {
      if (!all && !v.anonymous) continue;
      const size = diskUsage(v.mountpoint);
      try {
        this.remove(v.name);
      } catch (err) {
        // A container may have taken it up between the listing and now.
        if (err instanceof VolumeInUseError || err instanceof VolumeNotFoundError) continue;
        throw err;
      }
      deleted.push(v.name);
      reclaimed += size;
    }
    return { deleted, reclaimed };
  }
}
