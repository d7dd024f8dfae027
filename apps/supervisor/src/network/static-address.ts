// Addresses a user asks for (--ip, network connect --ip) and MAC addresses (--mac-address), checked the way
// docker checks them before the IPAM plugin sees them: a user network only, a host address of its subnet
// that is not the gateway, and not held by another container on that network.
import * as net from 'node:net';
import type { AttachmentRecord } from './attachment-store';
import { attachmentInfo } from './attachment-info';
import { AddressInUseError, InvalidAddressError } from './errors';
import type { NetworkRecord } from './network-registry';
import { contains, formatSubnet, ipToNumber, parseSubnet } from './subnet';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** A unicast MAC in colon form (the lowest bit of the first octet clear), lower-cased. */
export function checkMacAddress(mac: string): string {
  if (!MAC_RE.test(mac)) throw new InvalidAddressError(`invalid MAC address "${mac}": use six hex pairs like 02:42:ac:11:00:02`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new InvalidAddressError(`MAC address ${mac} is a multicast address; a container's must be unicast`);
  return mac.toLowerCase();
}

/** What can be told of an --ip without its network: an IPv4 address, on a network that takes one. */
export function checkRequestedIpv4(ip: string, network: string): void {
  if (!net.isIPv4(ip)) throw new InvalidAddressError(`invalid IPv4 address "${ip}"${net.isIPv6(ip) ? ' (IPv6 is not supported)' : ''}`);
  if (network === 'bridge' || network === 'host' || network === 'none' || network.startsWith('container:')) {
    throw new InvalidAddressError(`a user-specified IP address is supported on user-defined networks only, not ${network}`);
  }
}

/** The whole check against the network and the attachments on it; `self` is the asking record's key. */
export function checkAddressOnNetwork(ip: string, netRec: NetworkRecord, others: AttachmentRecord[]): void {
  checkRequestedIpv4(ip, netRec.predefined ? netRec.name : 'user');
  const subnet = parseSubnet(netRec.subnet);
  const n = ipToNumber(ip);
  const last = subnet.base + 2 ** (32 - subnet.prefix) - 1;
  if (!contains(subnet, ip) || n === subnet.base || n === last) {
    throw new InvalidAddressError(`address ${ip} is not a host address of network ${netRec.name} (${formatSubnet(subnet)})`);
  }
  if (ip === netRec.gateway) throw new InvalidAddressError(`address ${ip} is the gateway of network ${netRec.name}`);
  const holder = others.find((r) => r.networkId === netRec.id && (r.ipv4 === ip || attachmentInfo(r)?.ipAddress === ip));
  if (holder) throw new AddressInUseError(`address ${ip} on network ${netRec.name} is already in use by container ${holder.name || holder.containerId.slice(0, 12)}`);
}
