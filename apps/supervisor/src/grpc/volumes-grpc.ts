// The berth.containers.v1.Volumes gRPC service: a thin adapter over Volumes (volumes/volume-store.ts).
import type { Logger } from '@berth/service-kit';
import { unary, type ServiceRegistration } from '@berth/service-kit';
import pino from 'pino';
import { volumesV1 } from '@berth/api';
import type { VolumeInfo, Volumes } from '../volumes/volume-store';

export function toProtoVolume(v: VolumeInfo): volumesV1.Volume {
  return {
    name: v.name,
    driver: v.driver,
    mountpoint: v.mountpoint,
    createdAt: new Date(v.createdAt),
    labels: { ...v.labels },
    anonymous: v.anonymous,
    containers: [...v.containers],
    size: v.size,
  };
}

export function volumesServiceRegistration(volumes: Volumes, log: Logger = pino({ level: 'silent' })): ServiceRegistration {
  const impl: volumesV1.VolumesServer = {
    create: unary(log, 'Volumes.Create', async (req) =>
      toProtoVolume(volumes.create({ name: req.name, driver: req.driver, labels: req.labels, driverOpts: req.driverOpts }).volume)),
    list: unary(log, 'Volumes.List', async (req) => ({
      volumes: volumes.list({ dangling: req.dangling, names: req.names, labels: req.labels }).map(toProtoVolume),
    })),
    inspect: unary(log, 'Volumes.Inspect', async (req) => toProtoVolume(volumes.inspect(req.name))),
    remove: unary(log, 'Volumes.Remove', async (req) => {
      volumes.remove(req.name, req.force);
      return {};
    }),
    prune: unary(log, 'Volumes.Prune', async (req) => {
      const r = volumes.prune(req.all, req.labels);
      return { volumesDeleted: r.deleted, spaceReclaimed: r.reclaimed };
    }),
  };
  return { name: 'berth.containers.v1.Volumes', definition: volumesV1.VolumesService, implementation: impl };
}
