// The rootfs service process. Configuration (besides service-kit's BERTH_ROOT, BERTH_RUN, BERTH_NATS_URL…):
//   BERTH_ROOTFS_DRIVER         "overlay" (default) or "copy" (hosts without overlayfs)
//   BERTH_IMAGE_STORE_ADDR      where the image-store listens (default <BERTH_RUN>/image-store.sock)
//   BERTH_ROOTFS_LOCAL_BLOBS    "0" turns off the same-host fast path (reading
//                               <BERTH_ROOT>/image-store/blobs/sha256/<hex> directly)
import * as path from 'node:path';
import { runService, serviceTarget } from '@berth/service-kit';
import { GrpcBlobSink } from './commit/content-writer';
import { ContainerSnapshotGc } from './gc/container-snapshot-gc';
import { snapshotsService } from './grpc/snapshots-server';
import { RootfsService } from './rootfs-service';
import { createSnapshotter } from './snapshots';
import { GrpcBlobSource, LocalBlobSource, type BlobSource } from './unpack/blob-source';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'rootfs',
  version,
  setup: async ({ config, log, bus }) => {
    const snapshotter = createSnapshotter(process.env.BERTH_ROOTFS_DRIVER ?? 'overlay', config.stateDir);
    const imageStore = serviceTarget('image-store');
    const remote = new GrpcBlobSource(imageStore);
    const blobs: BlobSource =
      process.env.BERTH_ROOTFS_LOCAL_BLOBS === '0' ? remote : new LocalBlobSource(path.join(config.root, 'image-store', 'blobs', 'sha256'), remote);
    const blobSink = GrpcBlobSink.connect(imageStore);
    const rootfs = new RootfsService({ snapshotter, blobs, blobSink, tmpDir: path.join(config.stateDir, 'tmp'), events: bus });
    const interrupted = await rootfs.recover();
    log.info({ driver: snapshotter.driver, imageStore, interrupted }, 'snapshotter ready');
    // The writable snapshot of a container the supervisor destroyed on its own (run -d --rm) goes too.
    const gc = new ContainerSnapshotGc({ rootfs, log, node: config.node });
    gc.start(bus);
    return {
      services: [snapshotsService(rootfs, log)],
      close: async () => {
        await gc.stop();
        rootfs.close();
        blobSink.close();
      },
    };
  },
}).catch(() => undefined);
