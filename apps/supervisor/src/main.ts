// The supervisor service process: containers under conmon + crun, records in <BERTH_ROOT>/supervisor, bundles
// and exit files under BERTH_RUN, served as berth.containers.v1.Containers. Containers outlive this process;
// on start-up it re-adopts them.
import * as path from 'node:path';
import { runService } from '@berth/service-kit';
import { archiveServiceRegistration } from './archive/archive-grpc';
import { ContainerArchive } from './archive/container-archive';
import { ContainerIo } from './container-io';
import { ContainerManager } from './container-manager';
import { writeHosts } from './container-files';
import { containersService } from './grpc/containers-grpc';
import { createNetworking } from './network';
import { NetworkMembership } from './network-membership';
import { volumesServiceRegistration } from './grpc/volumes-grpc';
import { Volumes } from './volumes/volume-store';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'supervisor',
  version,
  setup: async ({ config, log, bus }) => {
    let mgr: ContainerManager | undefined;
    const networking = createNetworking({
      stateDir: config.stateDir,
      log,
      bus,
      // Containers on a user network reach each other by name: rewrite the hosts files of the peers when one
      // joins or leaves (writeFileSync keeps the inode, so the bind-mounted file in each container follows).
      onPeersChanged: ({ containerIds }) => {
        for (const id of containerIds) {
          const setup = networking.provider.setupFor(id);
          if (!mgr || !setup) continue;
          try {
            writeHosts(mgr.paths(id).hosts, mgr.get(id), setup, false);
          } catch (err) {
            log.warn({ id, err: (err as Error).message }, 'could not update a peer hosts file');
          }
        }
      },
    });
    // Volumes live beside the containers that use them: <stateDir>/volumes/<name>/_data.
    const volumes = new Volumes({ stateDir: config.stateDir, events: bus });
    mgr = await ContainerManager.open({
      stateDir: config.stateDir,
      volumes,
      runDir: path.join(config.runDir, 'supervisor'),
      network: networking.provider,
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
    // Attachments of containers this supervisor no longer knows (removed while it was down), or that are not
    // running (a start cut short by a crash), are torn down: the next start sets the network up afresh.
    const known = mgr;
    const holdsNetwork = new Set(['running', 'paused', 'restarting']);
    await networking.provider.reconcile((id) => known.list(true).some((c) => c.id === id && holdsNetwork.has(c.state?.status ?? '')));
    const io = new ContainerIo(known);
    networking.useMembership(new NetworkMembership(known, (ref) => networking.networks.registry.get(ref)));
    return {
      services: [containersService(known, io, log), networking.networksServiceRegistration, volumesServiceRegistration(volumes, log), archiveServiceRegistration(new ContainerArchive(known), log)],
      close: () => known.close(),
    };
  },
}).catch(() => undefined);
