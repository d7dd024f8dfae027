// docker network connect / disconnect: the networks a container joins beyond the one it was created with.
// The record (extra_networks, and networks for inspect) changes under the container's lock; a running (or
// paused) container gets or loses the interface at once, and every start joins them all again.
import type { containersV1 } from '@berth/api';
import { checkAliases } from './container-create';
import { writeHosts } from './container-files';
import { ContainerNotFoundError } from './errors';
import type { Entry, RunnerHost } from './container-types';
import { AlreadyOnNetworkError, NetworkNotJoinableError, NotOnNetworkError } from './network/errors';
import type { NetworkProvider, NetworkSetup } from './network/network-provider';
import type { NetworkRecord } from './network/network-registry';

/** Finds a network by name, id or unique id prefix; throws NOT_FOUND. */
export type NetworkLookup = (ref: string) => NetworkRecord;

const HOLDS_NETNS = new Set(['running', 'paused']);

/** The container's network namespace while it runs, for an ADD or DEL into it. */
function liveNetns(ctr: containersV1.Container): string | undefined {
  const st = ctr.state!;
  return HOLDS_NETNS.has(st.status) && st.pid > 0 ? `/proc/${st.pid}/ns/net` : undefined;
}

/** The network the container was created on; host, none and container:<ref> have nothing to join. */
function firstNetwork(ctr: containersV1.Container, lookup: NetworkLookup): NetworkRecord {
  const mode = ctr.hostConfig?.networkMode || 'bridge';
  if (mode.startsWith('container:')) throw new NetworkNotJoinableError(`container ${ctr.name} shares another container's network namespace: it cannot join networks`);
  const net = lookup(mode);
  if (net.driver !== 'bridge') throw new NetworkNotJoinableError(`container ${ctr.name} is on the ${net.name} network: it cannot join others`);
  return net;
}

export class NetworkMembership {
  constructor(
    private readonly h: RunnerHost,
    private readonly lookup: NetworkLookup,
  ) {}

  private get provider(): Required<Pick<NetworkProvider, 'attach' | 'detach'>> & NetworkProvider {
    const p = this.h.opts.network;
    if (!p.attach || !p.detach) throw new NetworkNotJoinableError('this supervisor\'s network provider cannot connect containers to more networks');
    return p as Required<Pick<NetworkProvider, 'attach' | 'detach'>> & NetworkProvider;
  }

  connect(networkRef: string, containerRef: string, aliases: string[] = [], ipv4Address?: string): Promise<void> {
    const id = this.h.resolve(containerRef);
    return this.h.mutex.run(id, async () => {
      const e = this.entry(id);
      const ctr = e.s.ctr;
      const net = this.lookup(networkRef);
      if (net.driver !== 'bridge') throw new NetworkNotJoinableError(`a container cannot be connected to the ${net.name} network after it was created`);
      if (firstNetwork(ctr, this.lookup).id === net.id || ctr.extraNetworks.includes(net.id)) {
        throw new AlreadyOnNetworkError(`container ${ctr.name} is already on network ${net.name}`);
      }
      checkAliases(aliases, net.predefined ? net.name : 'user');
      // Checked now, also for a container that is not running: a start must not be the first to refuse it.
      if (ipv4Address) this.provider.checkAddress?.(ipv4Address, net.id);
      const netns = liveNetns(ctr);
      if (netns) this.applied(e, await this.provider.attach({ ...this.request(ctr, net.id, netns), aliases, ...(ipv4Address ? { ipv4Address } : {}) }));
      ctr.extraNetworks = [...ctr.extraNetworks, net.id];
      if (aliases.length) ctr.extraNetworkAliases = { ...ctr.extraNetworkAliases, [net.id]: { names: aliases } };
      if (ipv4Address) ctr.extraNetworkIpv4 = { ...ctr.extraNetworkIpv4, [net.id]: ipv4Address };
      this.h.save(e);
    });
  }

  disconnect(networkRef: string, containerRef: string, force = false): Promise<void> {
    const id = this.h.resolve(containerRef);
    return this.h.mutex.run(id, async () => {
      const e = this.entry(id);
      const ctr = e.s.ctr;
      const net = this.lookup(networkRef);
      const mode = ctr.hostConfig?.networkMode || 'bridge';
      if (!mode.startsWith('container:') && this.lookup(mode).id === net.id) {
        throw new NetworkNotJoinableError(`container ${ctr.name} was created on network ${net.name} (--network): berth keeps that one`);
      }
      if (!ctr.extraNetworks.includes(net.id)) {
        if (force) return;
        throw new NotOnNetworkError(`container ${ctr.name} is not connected to network ${net.name}`);
      }
      const netns = liveNetns(ctr);
      if (netns) {
        await this.provider.detach(id, net.id, netns);
        const setup = this.provider.setupFor?.(id);
        if (setup) this.applied(e, setup);
      }
      ctr.extraNetworks = ctr.extraNetworks.filter((n) => n !== net.id);
      const { [net.id]: _gone, ...rest } = ctr.extraNetworkAliases;
      ctr.extraNetworkAliases = rest;
      const { [net.id]: _ip, ...otherIps } = ctr.extraNetworkIpv4;
      ctr.extraNetworkIpv4 = otherIps;
      this.h.save(e);
    });
  }

  private entry(id: string): Entry {
    const e = this.h.entries.get(id);
    // Removed between the lookup and the lock.
    if (!e) throw new ContainerNotFoundError(id);
    return e;
  }

  private request(ctr: containersV1.Container, networkId: string, netnsPath: string) {
    return { containerId: ctr.id, name: ctr.name, hostname: ctr.config!.hostname, network: networkId, netnsPath };
  }

  /** The record and /etc/hosts follow a change of a running container's networks. */
  private applied(e: Entry, setup: NetworkSetup): void {
    e.s.ctr.networks = setup.attachments.map((a) => ({ ...a }));
    writeHosts(this.h.layout.paths(e.s.ctr.id).hosts, e.s.ctr, setup, false);
  }
}

/**
 * At start, right after the first network's ADD: the networks Connect added, joined in order. Returns the
 * whole setup, or undefined when there are none.
 */
export async function joinExtraNetworks(provider: NetworkProvider, ctr: containersV1.Container, netnsPath: string): Promise<NetworkSetup | undefined> {
  let setup: NetworkSetup | undefined;
  for (const networkId of ctr.extraNetworks) {
    if (!provider.attach) throw new NetworkNotJoinableError('this supervisor\'s network provider cannot connect containers to more networks');
    const aliases = ctr.extraNetworkAliases[networkId]?.names ?? [];
    const ipv4Address = ctr.extraNetworkIpv4[networkId];
    setup = await provider.attach({ containerId: ctr.id, name: ctr.name, hostname: ctr.config!.hostname, network: networkId, netnsPath, aliases, ...(ipv4Address ? { ipv4Address } : {}) });
  }
  return setup;
}
