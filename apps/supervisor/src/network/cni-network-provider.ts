// NetworkProvider over the standard CNI plugins: the network's configuration list (bridge + host-local,
// portmap with published ports) after the network's own iptables rules (bridge-rules.ts, made once per
// network). The supervisor asks for runtimeNetns: the runtime makes the container's namespace (with lo up)
// and connect() runs the ADD into it between create and start; without it a named netns is made here
// (`ip netns add` + the loopback plugin). "none" is the runtime's fresh namespace alone (nothing to run or
// undo here); "host" is no netns at all. Every step is recorded first in the attachment store, so teardown can
// undo it from disk after a crash, and undo runs on any setup failure so nothing is left configured.
import type { Logger } from '@berth/service-kit';
import type { AttachmentRecord, AttachmentStore } from './attachment-store';
import { CniInvoker, type CniConfList, type CniResult } from './cni-invoker';
import { attachExtra, detachExtra, recordsOf, type ExtraNetworkHost, type ExtraNetworkRequest } from './extra-networks';
import { ensureBridgeRules } from './bridge-rules';
import { bridgeConfList, LOOPBACK_CONF_LIST, NEEDS_PREV_RESULT_ON_DEL } from './conflist';
import { attachmentInfo, uniqueNames } from './attachment-info';
import { AlreadyAttachedError, InvalidNetworkConfigError, NotConnectableError } from './errors';
import type { EventPublisher } from './events';
import { addNetns, deleteNetns, netnsExists, netnsNameFor, netnsPath } from './netns';
import type { NetworkAttachmentInfo, NetworkProvider, NetworkRequest, NetworkSetup, PortMapping } from './network-provider';
import type { NetworkRecord, NetworkRegistry } from './network-registry';
import { normalisePorts, reservePorts, toPortmapRuntime } from './ports';
import { containerDns } from './resolv-conf';
import { checkAddressOnNetwork, checkMacAddress } from './static-address';

export interface PeersChange {
  network: string;
  /** Containers on that network whose /etc/hosts should be rewritten (hostsEntriesFor gives the lines). */
  containerIds: string[];
}

export interface CniNetworkProviderOptions {
  registry: NetworkRegistry;
  attachments: AttachmentStore;
  invoker?: CniInvoker;
  events?: EventPublisher;
  log?: Logger;
  /** ACCEPT the bridge's traffic in FORWARD (default true; matters when the FORWARD policy drops). */
  firewall?: boolean;
  /** Makes a bridge network's masquerade/forward rules (default ensureBridgeRules; tests inject failures). */
  ensureRules?: (bridge: string, subnet: string, forward: boolean) => Promise<void>;
  /** The host's resolver file (default /etc/resolv.conf). */
  resolvConfPath?: string;
  /** Called after a container joined or left a user network, for the peers' /etc/hosts. */
  onPeersChanged?: (change: PeersChange) => void;
}

const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{11,127}$/;

export class CniNetworkProvider implements NetworkProvider {
  readonly invoker: CniInvoker;
  private readonly perContainer = new Map<string, Promise<unknown>>();
  /** Port reservation is check-then-record across containers: one at a time. */
  private portLock: Promise<unknown> = Promise.resolve();
  /** Bridge rules made by this process, by "bridge subnet": checked once, not per container. */
  private readonly rulesMade = new Map<string, Promise<void>>();

  /** The steps networks joined later (Connect) share with the first one. */
  private readonly extras: ExtraNetworkHost;

  constructor(private readonly opts: CniNetworkProviderOptions) {
    this.invoker = opts.invoker ?? new CniInvoker();
    this.extras = {
      attachments: opts.attachments,
      registry: opts.registry,
      invoker: this.invoker,
      bridgeRules: (net) => this.bridgeRules(net),
      undo: (rec, netns) => this.undo(rec, netns),
      announce: (topic, rec) => this.announce(topic, rec),
      runtime: (rec, netns) => this.runtime(rec, netns),
    };
  }

  /** Joins a running container to one more bridge network (docker network connect); returns the whole setup. */
  checkAddress(ipv4: string, network: string): void {
    checkAddressOnNetwork(ipv4, this.opts.registry.get(network), this.opts.attachments.list());
  }

  attach(req: ExtraNetworkRequest): Promise<NetworkSetup> {
    return this.serial(req.containerId, async () => {
      await attachExtra(this.extras, req);
      return this.setupFor(req.containerId)!;
    });
  }

  /** Takes a network Connect added away; with the running container's namespace, its interface goes at once. */
  detach(containerId: string, networkId: string, netnsPath?: string): Promise<void> {
    return this.serial(containerId, () => detachExtra(this.extras, containerId, networkId, netnsPath));
  }

  setup(req: NetworkRequest): Promise<NetworkSetup> {
    if (!CONTAINER_ID_RE.test(req.containerId ?? '')) {
      return Promise.reject(new InvalidNetworkConfigError(`container id "${req.containerId}" must be 12-128 letters, digits, "_", "." or "-"`));
    }
    return this.serial(req.containerId, () => this.doSetup(req));
  }

  teardown(containerId: string): Promise<void> {
    return this.serial(containerId, () => this.doTeardown(containerId));
  }

  /** The NetworkSetup of an attached container, rebuilt from disk (after a restart too). */
  setupFor(containerId: string): NetworkSetup | undefined {
    const rec = this.opts.attachments.get(containerId);
    return rec && rec.state === 'ready' ? this.toSetup(rec) : undefined;
  }

  /**
   * Extra /etc/hosts lines for the container now: "IP name [hostname]" of its peers on a user network.
   * Its own "IP hostname" line is the hosts file writer's (it knows the address from attachments).
   */
  hostsEntriesFor(containerId: string): string[] {
    const lines: string[] = [];
    // Every network the container is on, the ones Connect added too.
    for (const rec of recordsOf(this.opts.attachments, containerId)) {
      if (rec.state !== 'ready') continue;
      const net = this.findNetwork(rec.networkId);
      // Docker resolves peers by name on user networks only; the default bridge has no discovery.
      if (!net || net.predefined) continue;
      for (const peer of this.opts.attachments.byNetwork(rec.networkId)) {
        if (peer.containerId === containerId || peer.state !== 'ready') continue;
        const info = attachmentInfo(peer);
        if (info) lines.push(uniqueNames(info.ipAddress, [peer.name, peer.hostname, ...(peer.aliases ?? [])]));
      }
    }
    return [...new Set(lines)];
  }

  /** Every attachment on disk (ready or left pending by a crash). */
  attachments(): AttachmentRecord[] {
    return this.opts.attachments.list();
  }

  /**
   * Tears down the attachments of containers that are gone (died while the supervisor was down).
   * Returns the ids torn down; failures are logged and the record kept for the next try.
   */
  async reconcile(isLive: (containerId: string) => boolean): Promise<string[]> {
    const done: string[] = [];
    // A container with networks Connect added has several records: one teardown takes them all.
    for (const rec of this.opts.attachments.list()) {
      if (isLive(rec.containerId) || done.includes(rec.containerId)) continue;
      try {
        await this.teardown(rec.containerId);
        done.push(rec.containerId);
      } catch (err) {
        this.opts.log?.warn({ containerId: rec.containerId, err: (err as Error).message }, 'network teardown of a dead container failed');
      }
    }
    return done;
  }

  private async doSetup(req: NetworkRequest): Promise<NetworkSetup> {
    const { attachments, registry } = this.opts;
    if (attachments.get(req.containerId)) {
      throw new AlreadyAttachedError(`container ${req.containerId.slice(0, 12)} already has a network; tear it down first`);
    }
    const wanted = registry.get(req.network || 'bridge');
    const requested = normalisePorts(req.ports ?? []);
    if (requested.length > 0 && wanted.driver !== 'bridge') {
      this.opts.log?.warn({ containerId: req.containerId, network: wanted.name }, 'published ports are ignored on this network');
    }
    const rec = await this.withPortLock(async () => {
      const taken = attachments.list().flatMap((r) => r.ports);
      const ports = wanted.driver === 'bridge' ? await reservePorts(requested, taken) : [];
      // Re-read after the awaits: a network removed meanwhile is NOT_FOUND here, and the pending record
      // below is written in the same synchronous step, so a concurrent remove sees this container.
      const net = registry.get(wanted.id);
      // Checked under the lock with the records, so two containers cannot both take one address.
      if (req.ipv4Address) checkAddressOnNetwork(req.ipv4Address, net, attachments.list());
      const r: AttachmentRecord = {
        containerId: req.containerId,
        name: req.name ?? '',
        hostname: req.hostname || req.containerId.slice(0, 12),
        ...(req.aliases?.length ? { aliases: req.aliases } : {}),
        ...(req.ipv4Address ? { ipv4: req.ipv4Address } : {}),
        ...(req.macAddress && net.driver === 'bridge' ? { mac: checkMacAddress(req.macAddress) } : {}),
        network: net.name,
        networkId: net.id,
        ifName: 'eth0',
        ports,
        state: 'pending',
        created: new Date().toISOString(),
      };
      if (net.driver === 'null' || (net.driver === 'bridge' && req.runtimeNetns)) {
        r.runtimeNetns = true;
      } else if (net.driver !== 'host') {
        r.netnsName = netnsNameFor(req.containerId);
        r.netnsPath = netnsPath(r.netnsName);
      }
      if (net.driver === 'bridge') {
        r.confList = bridgeConfList(net, { ipamDir: registry.ipamDir, portmap: ports.length > 0 });
      }
      attachments.put(r);
      return r;
    });

    try {
      if (rec.confList) await this.bridgeRules(this.findNetwork(rec.networkId));
      if (rec.netnsName) {
        // A namespace of that name without a record is debris of an earlier crash.
        await deleteNetns(rec.netnsName);
        await addNetns(rec.netnsName);
        await this.invoker.addList(LOOPBACK_CONF_LIST, { containerId: rec.containerId, netns: rec.netnsPath!, ifName: 'lo' });
      }
      // A runtime-made namespace does not exist yet: connect() runs the ADD.
      if (rec.confList && rec.runtimeNetns) return this.toSetup(rec);
      if (rec.confList) {
        rec.result = await this.invoker.addList(rec.confList, this.runtime(rec, rec.netnsPath!));
      }
      rec.state = 'ready';
      attachments.put(rec);
    } catch (err) {
      try {
        await this.undo(rec);
      } catch (undoErr) {
        this.opts.log?.error({ containerId: rec.containerId, err: (undoErr as Error).message }, 'undo of a failed network setup failed; teardown will retry');
      }
      throw err;
    }
    this.announce('network.connect', rec);
    return this.toSetup(rec);
  }

  connect(containerId: string, netnsPath: string): Promise<NetworkSetup> {
    return this.serial(containerId, () => this.doConnect(containerId, netnsPath));
  }

  private async doConnect(containerId: string, netnsPath: string): Promise<NetworkSetup> {
    const rec = this.opts.attachments.get(containerId);
    if (!rec || rec.state !== 'pending' || !rec.runtimeNetns || !rec.confList) {
      throw new NotConnectableError(`container ${containerId.slice(0, 12)} has no network waiting for its namespace`);
    }
    rec.netnsPath = netnsPath;
    this.opts.attachments.put(rec);
    try {
      rec.result = await this.invoker.addList(rec.confList, this.runtime(rec, netnsPath));
      rec.state = 'ready';
      this.opts.attachments.put(rec);
    } catch (err) {
      try {
        await this.undo(rec);
      } catch (undoErr) {
        this.opts.log?.error({ containerId, err: (undoErr as Error).message }, 'undo of a failed network connect failed; teardown will retry');
      }
      throw err;
    }
    this.announce('network.connect', rec);
    return this.toSetup(rec);
  }

  private async doTeardown(containerId: string): Promise<void> {
    // The networks Connect added go first; their interfaces went with the namespace.
    for (const extra of this.opts.attachments.extrasOf(containerId)) {
      await this.undo(extra);
      if (extra.state === 'ready') this.announce('network.disconnect', extra);
    }
    const rec = this.opts.attachments.get(containerId);
    if (!rec) {
      // Idempotent; also clears a namespace left by a crash between `ip netns add` and the record.
      if (CONTAINER_ID_RE.test(containerId)) await deleteNetns(netnsNameFor(containerId));
      return;
    }
    await this.undo(rec);
    if (rec.state === 'ready') this.announce('network.disconnect', rec);
  }

  /**
   * DEL in reverse with the cached result, `ip netns del`, then drop the record. `liveNetns`: the running
   * container's namespace, for a network taken away while it runs (its interface must go too).
   */
  private async undo(rec: AttachmentRecord, liveNetns?: string): Promise<void> {
    const errors: unknown[] = [];
    const live = rec.netnsName ? netnsExists(rec.netnsName) : false;
    // CNI DEL with an empty CNI_NETNS: the plugins release IPAM and rules but touch no interface. A
    // runtime-made namespace always gets it: its veth goes with the namespace, and its /proc path may
    // name another process by now.
    const netns = liveNetns ?? (live ? rec.netnsPath! : '');
    if (rec.confList) {
      const list: CniConfList = rec.result
        ? rec.confList
        : { ...rec.confList, plugins: rec.confList.plugins.filter((p) => !NEEDS_PREV_RESULT_ON_DEL.has(p.type)) };
      try {
        await this.invoker.delList(list, this.runtime(rec, netns), rec.result);
      } catch (err) {
        errors.push(err);
      }
    }
    // No loopback DEL (libcni would run one): it only sets lo down, and `ip netns del` below destroys lo
    // with the namespace; skipping it saves a fork and ~10 ms.
    if (rec.netnsName) {
      try {
        await deleteNetns(rec.netnsName);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
    this.opts.attachments.remove(rec.key ?? rec.containerId);
  }

  /** The network's masquerade/forward rules, made (or checked) once per process and network. */
  private bridgeRules(net: NetworkRecord | undefined): Promise<void> {
    if (!net || net.driver !== 'bridge') return Promise.resolve();
    const key = `${net.bridge} ${net.subnet}`;
    let made = this.rulesMade.get(key);
    if (!made) {
      const ensure = this.opts.ensureRules ?? ensureBridgeRules;
      made = ensure(net.bridge, net.subnet, this.opts.firewall ?? true);
      this.rulesMade.set(key, made);
      made.catch(() => this.rulesMade.delete(key));
    }
    return made;
  }

  /** Forgets that a bridge's rules were made (its network was removed). */
  forgetRules(bridge: string): void {
    for (const key of this.rulesMade.keys()) if (key.startsWith(`${bridge} `)) this.rulesMade.delete(key);
  }

  private runtime(rec: AttachmentRecord, netns: string) {
    const capabilityArgs: Record<string, unknown> = { portMappings: toPortmapRuntime(rec.ports) };
    const subnet = rec.ipv4 ? /\/(\d+)$/.exec(this.findNetwork(rec.networkId)?.subnet ?? '')?.[1] : undefined;
    if (rec.ipv4 && subnet) capabilityArgs.ips = [`${rec.ipv4}/${subnet}`];
    if (rec.mac) capabilityArgs.mac = rec.mac;
    return { containerId: rec.containerId, netns, ifName: rec.ifName, capabilityArgs };
  }

  private toSetup(rec: AttachmentRecord): NetworkSetup {
    const info = attachmentInfo(rec);
    const isHost = !rec.netnsName && !rec.runtimeNetns;
    const dns = containerDns(this.opts.resolvConfPath, isHost);
    // The networks Connect added follow the first: inspect shows them all.
    const extras = this.opts.attachments.extrasOf(rec.containerId).filter((x) => x.state === 'ready').flatMap((x) => attachmentInfo(x) ?? []);
    const setup: NetworkSetup = {
      attachments: [...(info ? [info] : []), ...extras],
      ports: rec.ports,
      hostsEntries: isHost ? [] : this.hostsEntriesFor(rec.containerId),
      dns: dns.dns,
      resolvConf: dns.content,
    };
    if (rec.runtimeNetns) {
      setup.newNetns = true;
      if (rec.state === 'pending' && rec.confList) setup.pendingConnect = true;
    } else if (rec.netnsPath) {
      setup.netnsPath = rec.netnsPath;
    }
    return setup;
  }

  private announce(topic: 'network.connect' | 'network.disconnect', rec: AttachmentRecord): void {
    const address = rec.result?.ips?.[0]?.address ?? '';
    const net = this.findNetwork(rec.networkId);
    try {
      this.opts.events?.publish({
        topic,
        // The container is the subject (its events stay in order on one subject); docker's Actor is the network.
        subjectId: rec.containerId,
        attributes: { name: rec.network, container: rec.containerId, containerName: rec.name, type: net?.driver ?? '', networkId: rec.networkId },
        body: { $case: 'network', value: { network: rec.network, containerId: rec.containerId, address } },
      });
    } catch (err) {
      // The network change is done; a closed bus (shutdown) must not make it look failed.
      this.opts.log?.warn({ topic, containerId: rec.containerId, err: (err as Error).message }, 'network event not published');
    }
    if (net && !net.predefined && this.opts.onPeersChanged) {
      const peers = this.opts.attachments.byNetwork(rec.networkId).filter((p) => p.containerId !== rec.containerId && p.state === 'ready');
      try {
        if (peers.length > 0) this.opts.onPeersChanged({ network: rec.network, containerIds: peers.map((p) => p.containerId) });
      } catch (err) {
        this.opts.log?.warn({ network: rec.network, err: (err as Error).message }, 'updating peers of a network failed');
      }
    }
  }

  private findNetwork(id: string): NetworkRecord | undefined {
    try {
      return this.opts.registry.get(id);
    } catch {
      return undefined;
    }
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.perContainer.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.perContainer.set(key, settled);
    void settled.then(() => {
      if (this.perContainer.get(key) === settled) this.perContainer.delete(key);
    });
    return next;
  }

  private withPortLock<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.portLock.then(fn, fn);
    this.portLock = next.catch(() => undefined);
    return next;
  }
}

export type { PortMapping };
