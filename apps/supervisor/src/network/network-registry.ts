// The berth networks: the predefined ones (bridge, host, none) and user-defined bridge networks, each a
// JSON file under <stateDir>/network/networks/. A network's containers are the attachment records that
// name it (attachment-store.ts), so "in use" needs no second bookkeeping that could drift.
// Every check-then-write below is synchronous, so two calls in this process cannot interleave between the
// check and the write.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AttachmentRecord, AttachmentStore } from './attachment-store';
import {
  InvalidNetworkConfigError,
  NetworkExistsError,
  NetworkInUseError,
  NetworkNotFoundError,
  PredefinedNetworkError,
  SubnetOverlapError,
} from './errors';
import type { EventPublisher } from './events';
import { readJson, readJsonDir, writeJsonAtomic } from './state-files';
import {
  defaultGateway,
  formatSubnet,
  hostRouteSubnets,
  parseSubnet,
  pickFreeSubnet,
  subnetsOverlap,
  validateGateway,
  type Ipv4Subnet,
} from './subnet';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  /** 64 hex characters. */
  id: string;
  name: string;
  driver: NetworkDriver;
  /** Linux bridge device; empty for host/none. */
  bridge: string;
  /** IPv4 CIDR; empty for host/none. */
  subnet: string;
  gateway: string;
  labels: Record<string, string>;
  /** ISO time of creation (the predefined ones: when this registry was first opened). */
  created: string;
  predefined: boolean;
}

export interface DefaultBridgeConfig {
  /** Bridge device (default berth0). */
  bridge: string;
  /** Subnet (default 10.88.0.0/16). */
  subnet: string;
  /** Gateway (default the first address of the subnet). */
  gateway?: string;
}

export interface CreateNetworkOptions {
  name: string;
  /** CIDR; picked from the pool when empty. */
  subnet?: string;
  gateway?: string;
  labels?: Record<string, string>;
}

export const DEFAULT_BRIDGE: DefaultBridgeConfig = { bridge: 'berth0', subnet: '10.88.0.0/16' };
/** Where subnets of user networks created without one come from, a /24 each. */
export const DEFAULT_SUBNET_POOL = '10.89.0.0/16';
export const PREDEFINED = ['bridge', 'host', 'none'] as const;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const BRIDGE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function predefinedId(name: string): string {
  return createHash('sha256').update(`berth-network:${name}`).digest('hex');
}

export interface NetworkRegistryOptions {
  /** <stateDir>/network */
  dir: string;
  attachments: AttachmentStore;
  defaultBridge?: Partial<DefaultBridgeConfig>;
  subnetPool?: string;
  events?: EventPublisher;
  /** Host routing table in /proc/net/route form (tests point it elsewhere). */
  routeTable?: string;
}

export class NetworkRegistry {
  private readonly dir: string;
  private readonly predefined: NetworkRecord[];
  private readonly pool: Ipv4Subnet;

  constructor(private readonly opts: NetworkRegistryOptions) {
    this.dir = path.join(opts.dir, 'networks');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const def = { ...DEFAULT_BRIDGE, ...stripUndefined(opts.defaultBridge ?? {}) };
    if (!BRIDGE_RE.test(def.bridge)) throw new InvalidNetworkConfigError(`bridge name "${def.bridge}" must be 1-15 characters of letters, digits, "_", "." or "-"`);
    const sub = parseSubnet(def.subnet);
    const gw = def.gateway || defaultGateway(sub);
    validateGateway(sub, gw);
    this.pool = parseSubnet(opts.subnetPool ?? DEFAULT_SUBNET_POOL);
    const created = this.firstOpened();
    const base = { labels: {}, created, predefined: true };
    this.predefined = [
      { ...base, id: predefinedId('bridge'), name: 'bridge', driver: 'bridge', bridge: def.bridge, subnet: formatSubnet(sub), gateway: gw },
      { ...base, id: predefinedId('host'), name: 'host', driver: 'host', bridge: '', subnet: '', gateway: '' },
      { ...base, id: predefinedId('none'), name: 'none', driver: 'null', bridge: '', subnet: '', gateway: '' },
    ];
  }

  /** Directory host-local keeps its leases in (one sub-directory per network name). */
  get ipamDir(): string {
    return path.join(this.opts.dir, 'ipam');
  }

  list(): NetworkRecord[] {
    const user = readJsonDir<NetworkRecord>(this.dir).sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
    return [...this.predefined, ...user];
  }

  /** By name, full id or unique id prefix (at least 3 characters). */
  get(ref: string): NetworkRecord {
    const all = this.list();
    const exact = all.find((n) => n.name === ref || n.id === ref);
    if (exact) return exact;
    if (/^[0-9a-f]{3,63}$/.test(ref)) {
      const hits = all.filter((n) => n.id.startsWith(ref));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new NetworkNotFoundError(`network id prefix "${ref}" is ambiguous (${hits.map((h) => h.name).join(', ')})`);
    }
    throw new NetworkNotFoundError(`network "${ref}" not found`);
  }

  /** Containers attached to the network. */
  containers(net: NetworkRecord): AttachmentRecord[] {
    return this.opts.attachments.byNetwork(net.id);
  }

  create(req: CreateNetworkOptions): NetworkRecord {
    const name = req.name?.trim() ?? '';
    if (!NAME_RE.test(name)) {
      throw new InvalidNetworkConfigError(`network name "${name}" must start with a letter or digit and have at most 63 letters, digits, "_", "." or "-"`);
    }
    const all = this.list();
    if (all.some((n) => n.name === name)) throw new NetworkExistsError(`network "${name}" already exists`);
    const taken = all.filter((n) => n.subnet).map((n) => ({ net: n, sub: parseSubnet(n.subnet) }));
    let sub: Ipv4Subnet;
    if (req.subnet) {
      sub = parseSubnet(req.subnet);
      const clash = taken.find((t) => subnetsOverlap(t.sub, sub));
      if (clash) throw new SubnetOverlapError(`subnet ${formatSubnet(sub)} overlaps subnet ${clash.net.subnet} of network "${clash.net.name}"`);
    } else {
      if (req.gateway) throw new InvalidNetworkConfigError('a gateway needs a subnet: give --subnet too');
      const free = pickFreeSubnet(this.pool, [...taken.map((t) => t.sub), ...this.hostRoutes()]);
      if (!free) throw new InvalidNetworkConfigError(`no free /24 left in the pool ${formatSubnet(this.pool)}; give a subnet`);
      sub = free;
    }
    const gateway = req.gateway || defaultGateway(sub);
    validateGateway(sub, gateway);
    const id = randomBytes(32).toString('hex');
    const rec: NetworkRecord = {
      id,
      name,
      driver: 'bridge',
      // Docker's scheme: IFNAMSIZ allows 15 characters.
      bridge: `br-${id.slice(0, 12)}`,
      subnet: formatSubnet(sub),
      gateway,
      labels: { ...(req.labels ?? {}) },
      created: new Date().toISOString(),
      predefined: false,
    };
    writeJsonAtomic(path.join(this.dir, `${id}.json`), rec);
    this.opts.events?.publish({
      topic: 'network.create',
      subjectId: id,
      attributes: { name, driver: 'bridge', subnet: rec.subnet },
      body: { $case: 'network', value: { network: name, containerId: '', address: rec.subnet } },
    });
    return rec;
  }

  /**
   * Removes a user network's record and its IPAM state; returns it so the caller can delete its bridge.
   * Refused while containers are attached, naming them.
   */
  remove(ref: string): NetworkRecord {
    const net = this.get(ref);
    if (net.predefined) throw new PredefinedNetworkError(`network "${net.name}" is predefined and cannot be removed`);
    const users = this.containers(net);
    if (users.length > 0) {
      const names = users.map((u) => `${u.name || u.containerId.slice(0, 12)} (${u.containerId.slice(0, 12)})`);
      throw new NetworkInUseError(`network "${net.name}" has ${users.length} attached container(s): ${names.join(', ')}; stop or disconnect them first`);
    }
    fs.rmSync(path.join(this.dir, `${net.id}.json`), { force: true });
    fs.rmSync(path.join(this.ipamDir, net.name), { recursive: true, force: true });
    this.opts.events?.publish({
      topic: 'network.remove',
      subjectId: net.id,
      attributes: { name: net.name, driver: net.driver },
      body: { $case: 'network', value: { network: net.name, containerId: '', address: net.subnet } },
    });
    return net;
  }

  private hostRoutes(): Ipv4Subnet[] {
    try {
      return hostRouteSubnets(fs.readFileSync(this.opts.routeTable ?? '/proc/net/route', 'utf8'));
    } catch {
      return [];
    }
  }

  private firstOpened(): string {
    const f = path.join(this.opts.dir, 'created.json');
    const have = readJson<{ created: string }>(f);
    if (have) return have.created;
    const created = new Date().toISOString();
    writeJsonAtomic(f, { created });
    return created;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}
