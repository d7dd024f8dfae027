// Networks joined after the first (docker network connect): a real interface in the container's namespace,
// peers by name on that network, the interface and its IPAM lease gone on detach, everything on teardown.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AlreadyOnNetworkError, NetworkNotJoinableError, NotOnNetworkError } from '../../src/network/errors';
import { linksIn, makeFixture, runIn, uniqueThirdOctet, type NetFixture } from './fixture';

jest.setTimeout(60_000);

/** The IPv4 address on an interface inside a named namespace. */
function addressIn(netns: string, ifName: string): string | undefined {
  const out = execFileSync('ip', ['-n', netns, '-o', '-4', 'addr', 'show', 'dev', ifName], { encoding: 'utf8' });
  return /inet (\S+)\//.exec(out)?.[1];
}

/** Addresses the network's IPAM has handed out (host-local keeps one file per address). */
function leases(fx: NetFixture, network: string): string[] {
  const dir = path.join(fx.networks.registry.ipamDir, network);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
}

describe('extra networks', () => {
  let fx: NetFixture;
  beforeEach(() => {
    fx = makeFixture();
  });
  afterEach(() => fx.cleanup());

  it('attach adds eth1 on the other network, peers there resolve the container, detach removes it and its lease', async () => {
    const front = fx.networks.create({ name: 'front', subnet: `10.213.${uniqueThirdOctet()}.0/24` });
    const back = fx.networks.create({ name: 'back', subnet: `10.213.${uniqueThirdOctet()}.0/24` });
    const [a, b] = [fx.newId(), fx.newId()];
    await fx.provider.setup({ containerId: a, name: 'app', hostname: 'app', network: 'front', ports: [] });
    await fx.provider.setup({ containerId: b, name: 'db', hostname: 'db', network: 'back', ports: [] });
    const [nsA, nsB] = [`berth-${a.slice(0, 12)}`, `berth-${b.slice(0, 12)}`];

    const setup = await fx.provider.attach({ containerId: a, name: 'app', hostname: 'app', network: 'back', netnsPath: `/run/netns/${nsA}` });
    expect(setup.attachments.map((x) => x.network)).toEqual(['front', 'back']);
    const backIp = setup.attachments[1]!.ipAddress;
    expect(backIp.startsWith(back.subnet.replace('0/24', ''))).toBe(true);
    expect(linksIn(nsA)).toEqual(expect.arrayContaining(['lo', 'eth0', 'eth1']));
    expect(addressIn(nsA, 'eth1')).toBe(backIp);
    // Both ways by name on "back"; db learns app's back address.
    expect(fx.provider.hostsEntriesFor(b)).toEqual([`${backIp} app`]);
    expect(fx.provider.hostsEntriesFor(a)).toEqual([`${fx.provider.setupFor(b)!.attachments[0]!.ipAddress} db`]);
    expect((await runIn(nsB, ['/bin/busybox', 'ping', '-c1', '-W1', backIp])).code).toBe(0);
    expect(fx.networks.inspect('back').containers.map((c) => c.name).sort()).toEqual(['app', 'db']);
    expect(leases(fx, 'back')).toHaveLength(2);

    await expect(fx.provider.attach({ containerId: a, name: 'app', hostname: 'app', network: 'back', netnsPath: `/run/netns/${nsA}` })).rejects.toBeInstanceOf(AlreadyOnNetworkError);
    await expect(fx.provider.attach({ containerId: a, name: 'app', hostname: 'app', network: 'none', netnsPath: `/run/netns/${nsA}` })).rejects.toBeInstanceOf(NetworkNotJoinableError);

    await fx.provider.detach(a, back.id, `/run/netns/${nsA}`);
    expect(linksIn(nsA)).not.toContain('eth1');
    expect(leases(fx, 'back')).toHaveLength(1);
    expect(fx.provider.setupFor(a)!.attachments.map((x) => x.network)).toEqual(['front']);
    expect(fx.provider.hostsEntriesFor(b)).toEqual([]);
    await expect(fx.provider.detach(a, back.id, `/run/netns/${nsA}`)).rejects.toBeInstanceOf(NotOnNetworkError);
    expect(front.name).toBe('front');
  });

  it('teardown takes the extra networks with the first; a failing ADD leaves nothing', async () => {
    const back = fx.networks.create({ name: 'back2', subnet: `10.213.${uniqueThirdOctet()}.0/24` });
    const a = fx.newId();
    await fx.provider.setup({ containerId: a, name: 'app', hostname: 'app', network: 'bridge', ports: [] });
    const ns = `berth-${a.slice(0, 12)}`;
    await fx.provider.attach({ containerId: a, name: 'app', hostname: 'app', network: back.id, netnsPath: `/run/netns/${ns}` });
    expect(fx.provider.attachments().filter((r) => r.containerId === a)).toHaveLength(2);
    // Removing a network a container joined later is refused like any other in use.
    await expect(fx.networks.remove('back2')).rejects.toThrow(/in use|attached|containers/);

    await fx.provider.teardown(a);
    expect(fx.provider.attachments()).toEqual([]);
    expect(leases(fx, 'back2')).toEqual([]);
    expect(fs.existsSync(`/run/netns/${ns}`)).toBe(false);

    // A namespace that is gone: the ADD fails and no record, lease or rule stays.
    const c = fx.newId();
    await fx.provider.setup({ containerId: c, name: 'gone', hostname: 'gone', network: 'bridge', ports: [] });
    await expect(fx.provider.attach({ containerId: c, name: 'gone', hostname: 'gone', network: back.id, netnsPath: '/run/netns/berth-nosuchns' })).rejects.toThrow();
    expect(fx.provider.attachments().filter((r) => r.containerId === c)).toHaveLength(1);
    expect(leases(fx, 'back2')).toEqual([]);
  });
});
