// Thin gRPC adapter for berth.snapshots.v1.Snapshots: converts messages and calls RootfsService.
import { snapshotsV1 } from '@berth/api';
import { unary, type Logger, type ServiceRegistration } from '@berth/service-kit';
import { BadLayerRequestError } from '../errors';
import type { RootfsService } from '../rootfs-service';
import type { Kind, SnapshotInfo } from '../snapshots/snapshotter';

const KINDS: Record<Kind, snapshotsV1.Kind> = {
  view: snapshotsV1.Kind.KIND_VIEW,
  active: snapshotsV1.Kind.KIND_ACTIVE,
  committed: snapshotsV1.Kind.KIND_COMMITTED,
};

function toInfo(i: SnapshotInfo): snapshotsV1.SnapshotInfo {
  return { key: i.key, parent: i.parent, kind: KINDS[i.kind], createdAt: i.createdAt, labels: i.labels, layerDir: i.layerDir };
}

export function snapshotsService(rootfs: RootfsService, log: Logger): ServiceRegistration {
  const impl: snapshotsV1.SnapshotsServer = {
    unpack: unary(log, 'Unpack', async (req: snapshotsV1.UnpackRequest) => {
      const layers = req.layers.map((l, i) => {
        if (!l.blob) throw new BadLayerRequestError(`layer ${i} has no blob descriptor`);
        return { digest: l.blob.digest, diffId: l.diffId };
      });
      return rootfs.unpack(layers, req.image);
    }),
    prepare: unary(log, 'Prepare', async (req: snapshotsV1.PrepareRequest) => ({ mounts: await rootfs.prepare(req.key, req.parent, req.labels) })),
    view: unary(log, 'View', async (req: snapshotsV1.PrepareRequest) => ({ mounts: await rootfs.view(req.key, req.parent, req.labels) })),
    mounts: unary(log, 'Mounts', async (req: snapshotsV1.MountsRequest) => ({ mounts: await rootfs.mounts(req.key) })),
    commit: unary(log, 'Commit', async (req: snapshotsV1.CommitRequest) => {
      await rootfs.commit(req.name, req.key, req.labels);
      return {};
    }),
    remove: unary(log, 'Remove', async (req: snapshotsV1.RemoveRequest) => {
      await rootfs.remove(req.key, { force: req.force, owner: req.owner });
      return {};
    }),
    stat: unary(log, 'Stat', async (req: snapshotsV1.StatRequest) => toInfo(await rootfs.stat(req.key))),
    list: unary(log, 'List', async (req: snapshotsV1.ListSnapshotsRequest) => ({ snapshots: (await rootfs.list(req.parent || undefined)).map(toInfo) })),
    usage: unary(log, 'Usage', async (req: snapshotsV1.UsageRequest) => rootfs.usage(req.key)),
    changes: unary(log, 'Changes', async (req: snapshotsV1.ChangesRequest) => ({ changes: await rootfs.changes(req.key) })),
    commitToLayer: unary(log, 'CommitToLayer', async (req: snapshotsV1.CommitToLayerRequest) => {
      const l = await rootfs.commitToLayer(req.key);
      return { blob: { mediaType: l.mediaType, digest: l.digest, size: l.size, annotations: {} }, diffId: l.diffId };
    }),
  };
  return { name: 'berth.snapshots.v1.Snapshots', definition: snapshotsV1.SnapshotsService, implementation: impl };
}
