// The networks a container joins beyond its first (docker network connect). Each is an attachment record
// of its own, keyed "<container id>.<network id12>", on the next free interface (eth1, eth2...), without
// published ports (those stay with the first network, as docker keeps them). Its ADD runs into the running
// container's namespace; leaving runs DEL in that namespace too, which removes the interface at once.
import type { AttachmentRecord, AttachmentStore } from './attachment-store';
import type { CniInvoker, CniResult } from './cni-invoker';
import { bridgeConfList } from './conflist';
import { AlreadyOnNetworkError, NetworkNotJoinableError, NotOnNetworkError } from './errors';
import type { NetworkRecord, NetworkRegistry } from './network-registry';
import { checkAddressOnNetwork } from './static-address';

/** What the provider lends the functions here (its stores and the steps it shares with the first network). */
export interface ExtraNetworkHost {
  readonly attachments: AttachmentStore;
  readonly registry: NetworkRegistry;
  readonly invoker: CniInvoker;
  bridgeRules(net: NetworkRecord): Promise<void>;
  /** DEL with the cached result in `netns` ('' when the namespace is gone), then drops the record. */
  undo(rec: AttachmentRecord, netns?: string): Promise<void>;
  announce(topic: 'network.connect' | 'network.disconnect', rec: AttachmentRecord): void;
  runtime(rec: AttachmentRecord, netns: string): Parameters<CniInvoker['addList']>[1];
}

export interface ExtraNetworkRequest {
  containerId: string;
  /** Container name and hostname, what peers on the network resolve. */
  name: string;
  hostname: string;
  /** Network name, id or unique id prefix. */
  network: string;
  /** The running container's namespace, /proc/<pid>/ns/net. */
  netnsPath: string;
  /** More names peers on that network resolve it by (connect --alias). */
  aliases?: string[];
  /** The address to have on that network (connect --ip). */
  ipv4Address?: string;
}

export function extraKey(containerId: string, networkId: string): string {
  return `${containerId}.${networkId.slice(0, 12)}`;
}

/** Every attachment of the container, the first one first. */
export function recordsOf(attachments: AttachmentStore, containerId: string): AttachmentRecord[] {
  const first = attachments.get(containerId);
  return [...(first ? [first] : []), ...attachments.extrasOf(containerId)];
}

/** Joins the running container to one more bridge network; on failure nothing is left configured. */
export async function attachExtra(h: ExtraNetworkHost, req: ExtraNetworkRequest): Promise<CniResult | undefined> {
  const net = h.registry.get(req.network);
  if (net.driver !== 'bridge') throw new NetworkNotJoinableError(`a container cannot be connected to the ${net.name} network (driver ${net.driver}) after it was created`);
  const mine = recordsOf(h.attachments, req.containerId);
  if (mine.some((r) => r.networkId === net.id)) throw new AlreadyOnNetworkError(`container ${req.containerId.slice(0, 12)} is already on network ${net.name}`);
  if (req.ipv4Address) checkAddressOnNetwork(req.ipv4Address, net, h.attachments.list());
  const used = new Set(mine.map((r) => r.ifName));
  let n = 1;
  while (used.has(`eth${n}`)) n++;
  const rec: AttachmentRecord = {
    key: extraKey(req.containerId, net.id),
    containerId: req.containerId,
    name: req.name,
    hostname: req.hostname || req.containerId.slice(0, 12),
    ...(req.aliases?.length ? { aliases: req.aliases } : {}),
    ...(req.ipv4Address ? { ipv4: req.ipv4Address } : {}),
    network: net.name,
    networkId: net.id,
    runtimeNetns: true,
    netnsPath: req.netnsPath,
    ifName: `eth${n}`,
    confList: bridgeConfList(net, { ipamDir: h.registry.ipamDir, portmap: false }),
    ports: [],
    state: 'pending',
    created: new Date().toISOString(),
  };
  // Recorded before the first side effect, so a crash half way leaves enough to undo it.
  h.attachments.put(rec);
  try {
    await h.bridgeRules(net);
    rec.result = await h.invoker.addList(rec.confList!, h.runtime(rec, req.netnsPath));
    rec.state = 'ready';
    h.attachments.put(rec);
  } catch (err) {
    await h.undo(rec, req.netnsPath).catch(() => undefined);
    throw err;
  }
  h.announce('network.connect', rec);
  return rec.result;
}

/** Takes one network Connect added away; `netnsPath` is the running container's namespace, if it runs. */
export async function detachExtra(h: ExtraNetworkHost, containerId: string, networkId: string, netnsPath?: string): Promise<void> {
  const rec = h.attachments.extrasOf(containerId).find((r) => r.networkId === networkId);
  if (!rec) throw new NotOnNetworkError(`container ${containerId.slice(0, 12)} is not connected to network ${networkId.slice(0, 12)}`);
  await h.undo(rec, netnsPath ?? '');
  if (rec.state === 'ready') h.announce('network.disconnect', rec);
}
