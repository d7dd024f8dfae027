// The inspector service process: the read side of berth. Configuration (besides service-kit's BERTH_ROOT,
// BERTH_RUN, BERTH_NATS_URL…):
//   BERTH_SUPERVISOR_ADDR, BERTH_IMAGE_STORE_ADDR, BERTH_ROOTFS_ADDR   where the other services listen
//                                   (default <BERTH_RUN>/<service>.sock)
//   BERTH_INSPECTOR_RESYNC_MS       full re-List of the supervisor at most this old (default 10000)
//   BERTH_INSPECTOR_CGROUP_ROOT     the cgroup v1 mount (default /sys/fs/cgroup)
import { runService, serviceTarget } from '@berth/service-kit';
import { inspectorService } from './grpc/inspector-grpc';
import { InspectorService } from './inspector-service';
import { GrpcUpstream } from './upstream';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'inspector',
  version,
  setup: async ({ log, bus }) => {
    const targets = { supervisor: serviceTarget('supervisor'), imageStore: serviceTarget('image-store'), rootfs: serviceTarget('rootfs') };
    const upstream = new GrpcUpstream(targets);
    const svc = new InspectorService({ upstream, events: bus, log, resyncMs: Number(process.env.BERTH_INSPECTOR_RESYNC_MS ?? 10_000) });
    // Events may be missed while NATS is away: re-read everything after a reconnect.
    void (async () => {
      for await (const s of bus.nc.status()) if (s.type === 'reconnect') svc.invalidate();
    })().catch(() => undefined);
    log.info(targets, 'reading from');
    return {
      services: [inspectorService(svc, log)],
      close: () => {
        svc.close();
        upstream.close();
      },
    };
  },
}).catch(() => undefined);
