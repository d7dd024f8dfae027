// Addresses a user picks (--ip, network connect --ip) and MAC addresses (--mac-address) against the real CNI
// plugins: the container's interface has exactly them, host-local leases them, and what cannot be had is
// refused before anything is made, naming the address.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AddressInUseError, InvalidAddressError } from '../../src/network/errors';
import { makeFixture, runIn, uniqueThirdOctet, type NetFixture } from './fixture';

jest.setTimeout(60_000);

function linkIn(netns: string, ifName: string): { ip?: string; mac?: string } {
  const out = execFileSync('ip', ['-n', netns, '-o', 'addr', 'show', 'dev', ifName], { encoding: 'utf8' });
  const link = execFileSync('ip', ['-n', netns, '-o', 'link', 'show', 'dev', ifName], { encoding: 'utf8' });
  return { ip: /inet (\S+)\//.exec(out)?.[1], mac: /link\/ether (\S+)/.exec(link)?.[1] };
}

describe('static addresses', () => {
  let fx: NetFixture;
  beforeEach(() => {
    fx = makeFixture();
  });
  afterEach(() => fx.cleanup());

  it('--ip and --mac-address are what the container gets; the lease is that address; peers reach it there', async () => {
    const octet = uniqueThirdOctet();
    fx.networks.create({ name: 'fixed', subnet: `10.213.${octet}.0/24` });
    const [a, b] = [fx.newId(), fx.newId()];
    const ip = `10.213.${octet}.77`;
    const setup = await fx.provider.setup({ containerId: a, name: 'pinned', hostname: 'pinned', network: 'fixed', ports: [], ipv4Address: ip, macAddress: '02:42:AC:11:00:99' });
    expect(setup.attachments[0]).toMatchObject({ ipAddress: ip, macAddress: '02:42:ac:11:00:99', requestedIpv4Address: ip });
    const ns = `berth-${a.slice(0, 12)}`;
    expect(linkIn(ns, 'eth0')).toEqual({ ip, mac: '02:42:ac:11:00:99' });
    expect(fs.existsSync(path.join(fx.networks.registry.ipamDir, 'fixed', ip))).toBe(true);
    // Another container takes the next free address, not ours, and reaches ours.
    await fx.provider.setup({ containerId: b, name: 'peer', hostname: 'peer', network: 'fixed', ports: [] });
    expect(fx.provider.setupFor(b)!.attachments[0]!.ipAddress).not.toBe(ip);
    expect((await runIn(`berth-${b.slice(0, 12)}`, ['/bin/busybox', 'ping', '-c1', '-W2', ip])).code).toBe(0);
    expect(fx.provider.hostsEntriesFor(b)).toEqual([`${ip} pinned`]);

    // Taken: refused, and the refused container has nothing (no record, no namespace, no lease).
    const c = fx.newId();
    await expect(fx.provider.setup({ containerId: c, name: 'late', hostname: 'late', network: 'fixed', ports: [], ipv4Address: ip })).rejects.toThrow(AddressInUseError);
    await expect(fx.provider.setup({ containerId: c, name: 'late', hostname: 'late', network: 'fixed', ports: [], ipv4Address: ip })).rejects.toThrow(`address ${ip} on network fixed is already in use by container pinned`);
    expect(fx.provider.attachments().map((r) => r.containerId).sort()).toEqual([a, b].sort());
    expect(fs.existsSync(`/run/netns/berth-${c.slice(0, 12)}`)).toBe(false);

    // After teardown the address is free again.
    await fx.provider.teardown(a);
    expect(fs.existsSync(path.join(fx.networks.registry.ipamDir, 'fixed', ip))).toBe(false);
    const again = await fx.provider.setup({ containerId: c, name: 'late', hostname: 'late', network: 'fixed', ports: [], ipv4Address: ip });
    expect(again.attachments[0]!.ipAddress).toBe(ip);
  });

  it('connect --ip gives the extra interface that address', async () => {
    const octet = uniqueThirdOctet();
    fx.networks.create({ name: 'second', subnet: `10.213.${octet}.0/24` });
    const a = fx.newId();
    await fx.provider.setup({ containerId: a, name: 'app', hostname: 'app', network: 'bridge', ports: [] });
    const ns = `berth-${a.slice(0, 12)}`;
    const setup = await fx.provider.attach({ containerId: a, name: 'app', hostname: 'app', network: 'second', netnsPath: `/run/netns/${ns}`, ipv4Address: `10.213.${octet}.200` });
    expect(setup.attachments[1]).toMatchObject({ network: 'second', ipAddress: `10.213.${octet}.200`, requestedIpv4Address: `10.213.${octet}.200` });
    expect(linkIn(ns, 'eth1').ip).toBe(`10.213.${octet}.200`);
  });

  it('refuses addresses outside the subnet, its network, broadcast and gateway addresses, and the predefined networks', async () => {
    const octet = uniqueThirdOctet();
    fx.networks.create({ name: 'strict', subnet: `10.213.${octet}.0/24`, gateway: `10.213.${octet}.1` });
    const id = fx.newId();
    const cases: [string, string, RegExp][] = [
      ['strict', '10.99.0.5', /not a host address of network strict \(10\.213\.\d+\.0\/24\)/],
      ['strict', `10.213.${octet}.0`, /not a host address/],
      ['strict', `10.213.${octet}.255`, /not a host address/],
      ['strict', `10.213.${octet}.1`, /is the gateway of network strict/],
      ['strict', '10.213.1', /invalid IPv4 address "10\.213\.1"/],
      ['strict', 'fd00::5', /IPv6 is not supported/],
      ['bridge', '10.88.0.50', /user-defined networks only, not bridge/],
    ];
    for (const [network, ip, message] of cases) {
      const err = await fx.provider.setup({ containerId: id, name: 'x', hostname: 'x', network, ports: [], ipv4Address: ip }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(InvalidAddressError);
      expect((err as Error).message).toMatch(message);
    }
    for (const mac of ['02:42:ac:11:00', 'zz:42:ac:11:00:02', '03:42:ac:11:00:02']) {
      await expect(fx.provider.setup({ containerId: id, name: 'x', hostname: 'x', network: 'strict', ports: [], macAddress: mac })).rejects.toThrow(InvalidAddressError);
    }
    expect(fx.provider.attachments()).toEqual([]);
    expect(fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)).toBe(false);
  });
});
