// A supervisor Container as `docker inspect` prints it (Docker's field names and shapes), plus berth's own
// section. Pure: what comes from the host (the merged dir, network ids) is handed in.
import type { containersV1, typesV1 } from '@berth/api';
import { rfc3339Nano } from './docker-time';
import { healthcheckJson, healthJson } from './health-json';
import { bindsJson, configVolumesJson, mountsJson, tmpfsJson } from './mounts-json';
import { securityFields } from './security-json';

export interface HostFacts {
  /** Where the overlay is mounted now (from /proc/self/mountinfo); empty when not mounted. */
  mergedDir: string;
  /** Network name → network id, for NetworkSettings.Networks.*.NetworkID. */
  networkIds: ReadonlyMap<string, string>;
}

/** "lowerdir=/a:/b" style options of the root overlay mount, by name. */
export function overlayOptions(mounts: typesV1.Mount[]): Record<string, string> {
  const root = mounts.find((m) => m.type === 'overlay' && !m.target) ?? mounts.find((m) => m.type === 'overlay');
  const out: Record<string, string> = {};
  for (const o of root?.options ?? []) {
    const i = o.indexOf('=');
    if (i > 0) out[o.slice(0, i)] = o.slice(i + 1);
  }
  return out;
}

export function portKey(port: number, protocol: string): string {
  return `${port}/${protocol || 'tcp'}`;
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

/**
 * Docker's port maps. `bound` (NetworkSettings.Ports) shows what is listening: an empty host IP is every
 * address, 0.0.0.0; HostConfig.PortBindings keeps what was asked ("").
 */
function portMap(bindings: containersV1.PortBinding[], exposed: string[], bound: boolean): PortMap {
  const out: PortMap = {};
  if (bound) for (const e of exposed) out[e.includes('/') ? e : `${e}/tcp`] = null;
  for (const b of bindings) {
    const k = portKey(b.containerPort, b.protocol);
    (out[k] ??= []).push({ HostIp: b.hostIp || (bound ? '0.0.0.0' : ''), HostPort: b.hostPort ? String(b.hostPort) : '' });
  }
  return out;
}

/** Docker's Status from berth's: the same words, "removing" included. */
export function dockerStatus(status: string): string {
  return status || 'created';
}

export function containerToDocker(c: containersV1.Container, facts: HostFacts): Record<string, unknown> {
  const cfg = c.config!;
  const hc = c.hostConfig!;
  const st = c.state!;
  const res = hc.resources ?? { cpuShares: 0, nanoCpus: 0, memory: 0, memorySwap: 0, pidsLimit: 0 };
  const argv = [...cfg.entrypoint, ...cfg.cmd];
  const ov = overlayOptions(c.rootfs);
  const mode = hc.networkMode || 'bridge';
  const first = c.networks[0];
  const networks: Record<string, unknown> = {};
  for (const n of c.networks) {
    networks[n.network] = {
      // docker shows what was asked for (--ip, connect --ip) here, null when IPAM picked the address.
      IPAMConfig: n.requestedIpv4Address ? { IPv4Address: n.requestedIpv4Address } : null,
      Links: null,
      Aliases: n.aliases.length ? n.aliases : null,
      NetworkID: facts.networkIds.get(n.network) ?? '',
      EndpointID: '',
      Gateway: n.gateway,
      IPAddress: n.ipAddress,
      IPPrefixLen: n.ipPrefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: n.macAddress,
    };
  }
  // Docker lists "none" and "host" as networks of their own, with no address.
  if (c.networks.length === 0 && (mode === 'none' || mode === 'host')) {
    networks[mode] = { IPAMConfig: null, Links: null, Aliases: null, NetworkID: facts.networkIds.get(mode) ?? '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '' };
  }
  const running = st.status === 'running' || st.status === 'paused';
  return {
    Id: c.id,
    Created: rfc3339Nano(c.createdAt),
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    State: {
      Status: dockerStatus(st.status),
      Running: running,
      Paused: st.status === 'paused',
      Restarting: st.status === 'restarting',
      OOMKilled: st.oomKilled,
      Dead: st.status === 'dead',
      Pid: running ? st.pid : 0,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: rfc3339Nano(st.startedAt),
      FinishedAt: rfc3339Nano(st.finishedAt),
      ...(st.health ? { Health: healthJson(st.health) } : {}),
    },
    Image: cfg.imageId,
    ResolvConfPath: c.resolvConfPath,
    HostnamePath: c.hostnamePath,
    HostsPath: c.hostsPath,
    // docker shows no path for a driver that keeps no file.
    LogPath: hc.logConfig?.type === 'none' ? '' : c.logPath,
    Name: '/' + c.name,
    RestartCount: st.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: bindsJson(hc.volumes),
      VolumesFrom: hc.volumesFrom.length ? hc.volumesFrom : null,
      ...tmpfsJson(hc.volumes),
      // json-file is what was asked for, k8s-file what berth keeps: the type shows as asked, as docker's does.
      LogConfig: { Type: hc.logConfig?.type || 'k8s-file', Config: hc.logConfig?.options ?? {} },
      NetworkMode: mode,
      PortBindings: portMap(hc.ports, [], false),
      RestartPolicy: { Name: hc.restartPolicy?.name || 'no', MaximumRetryCount: hc.restartPolicy?.maximumRetryCount ?? 0 },
      AutoRemove: hc.autoRemove,
      PublishAllPorts: hc.publishAll,
      ReadonlyRootfs: hc.readOnly,
      Init: hc.init ? true : null,
      Runtime: hc.runtime || 'crun',
      CpuShares: res.cpuShares,
      Memory: res.memory,
      NanoCpus: res.nanoCpus,
      // Docker records the effective value: unset with a memory limit is twice the limit.
      MemorySwap: res.memorySwap === 0 && res.memory > 0 ? res.memory * 2 : res.memorySwap,
      PidsLimit: res.pidsLimit > 0 ? res.pidsLimit : null,
      ...securityFields(hc),
    },
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: ov.lowerdir ?? '',
        UpperDir: ov.upperdir ?? '',
        WorkDir: ov.workdir ?? '',
        MergedDir: facts.mergedDir,
      },
    },
    Mounts: mountsJson(hc.volumes),
    Config: {
      Hostname: cfg.hostname,
      Domainname: cfg.domainname,
      User: cfg.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: cfg.exposedPorts.length ? Object.fromEntries(cfg.exposedPorts.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) : null,
      Tty: cfg.tty,
      OpenStdin: cfg.openStdin,
      StdinOnce: cfg.stdinOnce,
      Env: cfg.env,
      Cmd: cfg.cmd.length ? cfg.cmd : null,
      ...(cfg.healthcheck ? { Healthcheck: healthcheckJson(cfg.healthcheck) } : {}),
      Image: cfg.image,
      Volumes: configVolumesJson(cfg, hc.volumes),
      WorkingDir: cfg.workingDir,
      Entrypoint: cfg.entrypoint.length ? cfg.entrypoint : null,
      OnBuild: null,
      Labels: cfg.labels,
      // Where docker before API 1.44 shows --mac-address (newer ones only under the network).
      ...(hc.macAddress ? { MacAddress: hc.macAddress } : {}),
      StopSignal: cfg.stopSignal || 'SIGTERM',
      StopTimeout: cfg.stopTimeout > 0 ? cfg.stopTimeout : 10,
    },
    NetworkSettings: {
      Bridge: first?.bridge ?? '',
      SandboxID: '',
      HairpinMode: false,
      SandboxKey: c.sandboxKey,
      Ports: portMap(c.ports, cfg.exposedPorts, true),
      Gateway: first?.gateway ?? '',
      IPAddress: first?.ipAddress ?? '',
      IPPrefixLen: first?.ipPrefixLen ?? 0,
      MacAddress: first?.macAddress ?? '',
      Networks: networks,
    },
    Berth: {
      StateDir: c.stateDir,
      SnapshotKey: c.snapshotKey,
      ConmonPid: running ? st.conmonPid : 0,
      RootfsMounts: c.rootfs.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, Options: m.options })),
    },
  };
}
