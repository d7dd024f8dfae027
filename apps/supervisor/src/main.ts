// The supervisor service process: containers under conmon + crun, records in <BERTH_ROOT>/supervisor, bundles
// and exit files under BERTH_RUN, served as berth.containers.v1.Containers. Containers outlive this process;
// on start-up it re-adopts them.
import * as path from 'node:path';
import { runService } from '@berth/service-kit';
import { ContainerIo } from './container-io';
import { ContainerManager } from './container-manager';
import { containersService } from './grpc/containers-grpc';
import { LocalNetworkProvider } from './local-network';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'supervisor',
  version,
  setup: async ({ config, log, bus }) => {
    const mgr = await ContainerManager.open({
      stateDir: config.stateDir,
      runDir: path.join(config.runDir, 'supervisor'),
      network: new LocalNetworkProvider(),
      events: bus,
      log,
      logRotation: {
        maxSize: Number(process.env.BERTH_SUPERVISOR_LOG_MAX_SIZE ?? 10 * 1024 * 1024),
        maxFiles: Number(process.env.BERTH_SUPERVISOR_LOG_MAX_FILES ?? 3),
      },
      // "" keeps conmon in the supervisor's cgroup.
      conmonCgroup: process.env.BERTH_SUPERVISOR_CONMON_CGROUP ?? 'berth-conmon',
      ...(process.env.BERTH_SUPERVISOR_RUNTIME ? { defaultRuntime: process.env.BERTH_SUPERVISOR_RUNTIME } : {}),
    });
    const io = new ContainerIo(mgr);
    return {
      services: [containersService(mgr, io, log)],
      close: () => mgr.close(),
    };
  },
}).catch(() => undefined);
