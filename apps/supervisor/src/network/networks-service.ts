// The berth.containers.v1.Networks gRPC service: a thin adapter over Networks (networking.ts).
import type { Logger } from '@berth/service-kit';
import { unary, UnavailableError, type ServiceRegistration } from '@berth/service-kit';
import pino from 'pino';
import { networksV1 } from '@berth/api';
import type { NetworkDetails, Networks } from './networking';
import type { NetworkRecord } from './network-registry';

export function toProtoNetwork(n: NetworkRecord | NetworkDetails): networksV1.Network {
  return {
    id: n.id,
    name: n.name,
    driver: n.driver,
    bridge: n.bridge,
    subnet: n.subnet,
    gateway: n.gateway,
    created: new Date(n.created),
    labels: { ...n.labels },
    predefined: n.predefined,
    containers: 'containers' in n ? n.containers : [],
  };
}

/** Connect and Disconnect work on containers: the supervisor's manager lends them once it is open. */
export interface MembershipApi {
  connect(network: string, container: string, aliases: string[], ipv4Address?: string): Promise<void>;
  disconnect(network: string, container: string, force: boolean): Promise<void>;
}

export function networksServiceRegistration(networks: Networks, log: Logger = pino({ level: 'silent' }), membership: () => MembershipApi | undefined = () => undefined): ServiceRegistration {
  const members = (): MembershipApi => {
    const m = membership();
    if (!m) throw new UnavailableError('containers are not open yet');
    return m;
  };
  const impl: networksV1.NetworksServer = {
    create: unary(log, 'Networks.Create', async (req) => {
      const opts: Parameters<Networks['create']>[0] = { name: req.name, labels: req.labels };
      if (req.subnet) opts.subnet = req.subnet;
      if (req.gateway) opts.gateway = req.gateway;
      return toProtoNetwork(networks.create(opts));
    }),
    list: unary(log, 'Networks.List', async (req) => ({ networks: networks.list(req.nameContains).map(toProtoNetwork) })),
    inspect: unary(log, 'Networks.Inspect', async (req) => toProtoNetwork(networks.inspect(req.id))),
    remove: unary(log, 'Networks.Remove', async (req) => {
      await networks.remove(req.id);
      return {};
    }),
    connect: unary(log, 'Networks.Connect', async (req) => {
      await members().connect(req.network, req.container, req.aliases, req.ipv4Address || undefined);
      return {};
    }),
    disconnect: unary(log, 'Networks.Disconnect', async (req) => {
      await members().disconnect(req.network, req.container, req.force);
      return {};
    }),
  };
  return { name: 'berth.containers.v1.Networks', definition: networksV1.NetworksService, implementation: impl };
}
