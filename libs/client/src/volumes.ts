// berth.volumes: the supervisor's Volumes service with docker's defaults filled in, so a caller names only
// what it means (`berth.volumes.create({ name: 'data' })`, `berth.volumes.list({ dangling: true })`).
import type { volumesV1 as v } from '@berth/api';
import type { Promisified } from './clients';

export type Volume = v.Volume;

export interface CreateVolumeOptions {
  /** Empty or absent: an anonymous volume with a generated name. */
  name?: string;
  /** "local" (the only driver). */
  driver?: string;
  labels?: Record<string, string>;
  driverOpts?: Record<string, string>;
}

export interface ListVolumeOptions {
  /** true: only volumes no container uses; false: only used ones. */
  dangling?: boolean;
  /** Name contains one of these (docker -f name=...). */
  names?: string[];
  /** "key" or "key=value", all must match (docker -f label=...). */
  labels?: string[];
}

export class VolumesApi {
  constructor(private readonly c: Promisified<v.VolumesClient>) {}

  /** Makes a volume; an existing name is returned as it is (docker volume create). */
  create(o: CreateVolumeOptions = {}): Promise<Volume> {
    return this.c.create({ name: o.name ?? '', driver: o.driver ?? '', labels: o.labels ?? {}, driverOpts: o.driverOpts ?? {} });
  }

  async list(o: ListVolumeOptions = {}): Promise<Volume[]> {
    const res = await this.c.list({ dangling: o.dangling === undefined ? '' : String(o.dangling), names: o.names ?? [], labels: o.labels ?? [] });
    return res.volumes;
  }

  inspect(name: string): Promise<Volume> {
    return this.c.inspect({ name });
  }

  /** force: no error when it does not exist; a volume in use is refused all the same. */
  async remove(name: string, force = false): Promise<void> {
    await this.c.remove({ name, force });
  }

  /** Removes unused volumes: anonymous ones, or every unused one with all (docker 23+). */
  async prune(o: { all?: boolean; labels?: string[] } = {}): Promise<{ volumesDeleted: string[]; spaceReclaimed: number }> {
    return this.c.prune({ all: !!o.all, labels: o.labels ?? [] });
  }
}
