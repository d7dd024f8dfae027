// The OCI bundle's files: the inputs buildSpec takes for a container, and at start the hosts and resolv.conf
// files plus the spec written to the bundle (and its copy in the container's state dir).
import * as fs from 'node:fs';
import type { containersV1 } from '@berth/api';
import { userDns, writeHosts, writeResolvConf } from './container-files';
import type { RunnerHost, StartHooks } from './container-types';
import type { ContainerPaths } from './layout';
import type { NetworkSetup } from './network/network-provider';
import { specJson } from './oci/security';
import { namespaceChoices } from './oci/namespaces';
import { buildSpec } from './oci/spec';
import { resolveUser } from './oci/user';

export function specInputs(h: Pick<RunnerHost, 'opts' | 'hostLimits'>, ctr: containersV1.Container, p: ContainerPaths,
  user: ReturnType<typeof resolveUser>, netnsPath: string | undefined, newNetns = false) {
  return {
    id: ctr.id,
    config: ctr.config!,
    hostConfig: ctr.hostConfig!,
    hostname: ctr.config!.hostname,
    rootfsPath: p.rootfs,
    user,
    netnsPath,
    newNetns,
    hostnamePath: p.hostname,
    hostsPath: p.hosts,
    resolvConfPath: p.resolvConf,
    initBinary: h.opts.initBinary ?? '/usr/bin/catatonit',
    hostLimits: h.hostLimits,
    ...(h.opts.volumes ? { volumeMountpoint: (name: string) => h.opts.volumes!.mountpoint(name) } : {}),
  };
}

/** Writes hosts, resolv.conf and the spec (user resolved in the mounted rootfs, network from `setup`). */
export function writeBundleFiles(h: Pick<RunnerHost, 'opts' | 'hostLimits' | 'entries' | 'resolve'>, ctr: containersV1.Container, p: ContainerPaths,
  setup: NetworkSetup, network: string, hooks: StartHooks): void {
  writeHosts(p.hosts, ctr, setup, network === 'host');
  // The provider's text keeps its note about host nameservers it left out; else write the list.
  const own = userDns(ctr.hostConfig, setup.dns);
  if (own) writeResolvConf(p.resolvConf, own);
  else if (setup.resolvConf) fs.writeFileSync(p.resolvConf, setup.resolvConf);
  else writeResolvConf(p.resolvConf, setup.dns);
  const user = resolveUser(ctr.config!.user, p.rootfs, ctr.hostConfig!.groupAdd);
  const namespaces = namespaceChoices(ctr.hostConfig!, (ref) => runningPid(h, ref));
  const spec = buildSpec({ ...specInputs(h, ctr, p, user, setup.netnsPath, !!setup.newNetns), namespaces });
  // The runtime sizes the terminal when it makes it: PID 1 never sees the 0x0 a later resize would race.
  if (ctr.config!.tty && hooks.consoleSize) {
    (spec.process as Record<string, unknown>).consoleSize = { height: hooks.consoleSize.rows, width: hooks.consoleSize.cols };
  }
  const specText = specJson(spec);
  fs.writeFileSync(p.bundleConfig, specText);
  fs.writeFileSync(p.configCopy, specText);
}

/** PID 1 of a running container, for --pid/--ipc container:<ref>; undefined when it is not running or not known. */
function runningPid(h: Pick<RunnerHost, 'entries' | 'resolve'>, ref: string): number | undefined {
  let id: string;
  try {
    id = h.resolve(ref);
  } catch {
    return undefined;
  }
  const st = h.entries.get(id)?.s.ctr.state;
  return st && (st.status === 'running' || st.status === 'paused') && st.pid > 0 ? st.pid : undefined;
}
