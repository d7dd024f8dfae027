export * from './network-provider';
export * from './errors';
export { createNetworking, Networks, type Networking, type NetworkingOptions, type NetworkDetails } from './networking';
export { CniNetworkProvider, type PeersChange } from './cni-network-provider';
export { CniInvoker, type CniConfList, type CniResult } from './cni-invoker';
export { NetworkRegistry, type NetworkRecord } from './network-registry';
export { removeNetworkLeftovers } from './host-cleanup';
export { networksServiceRegistration } from './networks-service';
