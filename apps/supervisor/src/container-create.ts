// What Create checks before anything is made, and the new container's record. Kept apart from the manager:
// both are pure over the request, and the manager keeps the locking, the files and the events.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { containersV1 } from '@berth/api';
import type { CreateRequest } from './container-types';
import { InvalidConfigError, VolumeSourceMissingError } from './errors';
import { checkMacAddress, checkRequestedIpv4 } from './network/static-address';
import { validateHealthcheck } from './health/health-monitor';
import type { ContainerPaths } from './layout';
import { validateConfig } from './oci/spec';
import { portRequests } from './port-requests';
import { mountType } from './volumes/container-mounts';

/** Everything about the request that would only fail later (at start, in the runtime): refused now. */
export function checkCreateRequest(req: CreateRequest): void {
  validateConfig(req.config, req.hostConfig);
  // Create only: the record's hostname is the host's then (an update re-checks the record).
  if (req.hostConfig.utsMode === 'host' && req.config.hostname) throw new InvalidConfigError('conflicting options: a hostname and the host\'s UTS namespace');
  checkAliases(req.hostConfig.networkAliases, req.hostConfig.networkMode || 'bridge');
  if (req.hostConfig.ipv4Address) checkRequestedIpv4(req.hostConfig.ipv4Address, req.hostConfig.networkMode || 'bridge');
  if (req.hostConfig.macAddress) {
    if (['host', 'none'].includes(req.hostConfig.networkMode) || req.hostConfig.networkMode.startsWith('container:')) {
      throw new InvalidConfigError(`conflicting options: a MAC address and the ${req.hostConfig.networkMode} network`);
    }
    checkMacAddress(req.hostConfig.macAddress);
  }
  validateHealthcheck(req.config.healthcheck);
  portRequests(req.config, req.hostConfig);
  if (req.rootfs.length === 0) throw new InvalidConfigError('no rootfs mounts given: prepare a snapshot first');
  for (const v of req.hostConfig.volumes) if (mountType(v) === 'bind' && !fs.existsSync(v.source)) throw new VolumeSourceMissingError(v.source);
}

const ALIAS_RE = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,62})$/;
const PREDEFINED = new Set(['bridge', 'host', 'none']);

/** --network-alias / connect --alias: names on a user-defined network only, as docker's. */
export function checkAliases(aliases: string[], network: string): void {
  if (!aliases.length) return;
  if (PREDEFINED.has(network) || network.startsWith('container:')) {
    throw new InvalidConfigError(`network-scoped aliases are only supported for user-defined networks, not ${network}`);
  }
  for (const a of aliases) if (!ALIAS_RE.test(a)) throw new InvalidConfigError(`invalid network alias "${a}": use letters, digits, "_", "." or "-" (at most 63)`);
}

/** The record of a container just created: its mounts resolved (volume names), its files at `p`. */
export function newContainerRecord(id: string, name: string, req: CreateRequest, mounts: containersV1.VolumeMount[], p: ContainerPaths): containersV1.Container {
  return {
    id,
    name,
    createdAt: new Date(),
    // The host's UTS namespace has the host's name: /etc/hostname and HOSTNAME say so too, as docker's do.
    config: { ...req.config, hostname: req.config.hostname || (req.hostConfig.utsMode === 'host' ? os.hostname() : id.slice(0, 12)) },
    hostConfig: { ...req.hostConfig, volumes: mounts },
    state: { status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: undefined, finishedAt: undefined, restartCount: 0, conmonPid: 0, health: undefined },
    rootfs: req.rootfs,
    snapshotKey: req.snapshotKey ?? '',
    stateDir: p.dir,
    logPath: p.log,
    sandboxKey: '',
    networks: [],
    ports: [],
    hostnamePath: p.hostname,
    hostsPath: p.hosts,
    resolvConfPath: p.resolvConf,
    extraNetworks: [],
    extraNetworkAliases: {},
    extraNetworkIpv4: {},
  };
}
