// User-defined bridge networks: lifecycle, refusals, name resolution between containers, NATS events.
import * as fs from 'node:fs';
import { EventBus, type Envelope } from '@berth/events';
import { startNatsServer, type NatsServerHandle } from '@berth/testing';
import { makeFixture, iptablesMentions, linkExists, runIn, uniqueThirdOctet, type NetFixture } from './fixture';

jest.setTimeout(60_000);

/** `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts: the stand-in for the bundle's file. */
function writeHosts(ns: string, lines: string[]): void {
  fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
  fs.writeFileSync(`/etc/netns/${ns}/hosts`, ['127.0.0.1 localhost', ...lines].join('\n') + '\n');
}

describe('user-defined networks', () => {
  let fx: NetFixture;
  const hostsDirs: string[] = [];
  beforeEach(() => {
    fx = makeFixture();
  });
  afterEach(async () => {
    for (const d of hostsDirs.splice(0)) fs.rmSync(`/etc/netns/${d}`, { recursive: true, force: true });
    try {
      fs.rmdirSync('/etc/netns');
    } catch {
      // not empty or not there: not ours to remove
    }
    await fx.cleanup();
  });

  it('containers on a user network reach each other by name; peers learn of newcomers', async () => {
    const changes: { network: string; containerIds: string[] }[] = [];
    await fx.cleanup();
    fx = makeFixture({ onPeersChanged: (c) => changes.push(c) });
    const subnet = `10.213.${uniqueThirdOctet()}.0/24`;
    const net = fx.networks.create({ name: 'app', subnet });
    expect(net).toMatchObject({ name: 'app', driver: 'bridge', subnet, gateway: subnet.replace('0/24', '1'), predefined: false });
    expect(net.bridge).toBe(`br-${net.id.slice(0, 12)}`);

    const [a, b] = [fx.newId(), fx.newId()];
    const sa = await fx.provider.setup({ containerId: a, name: 'alpha', hostname: 'alpha', network: 'app', ports: [] });
    const sb = await fx.provider.setup({ containerId: b, name: 'beta', hostname: 'beta', network: 'app', ports: [] });
    const ipA = sa.attachments[0]!.ipAddress;
    const ipB = sb.attachments[0]!.ipAddress;
    expect(sa.attachments[0]!.bridge).toBe(net.bridge);
    expect(sa.hostsEntries).toEqual([]);
    expect(sb.hostsEntries).toEqual([`${ipA} alpha`]);
    // alpha was told to refresh its hosts file when beta joined.
    expect(changes).toEqual([{ network: 'app', containerIds: [a] }]);
    expect(fx.provider.hostsEntriesFor(a)).toEqual([`${ipB} beta`]);

    const [nsA, nsB] = [`berth-${a.slice(0, 12)}`, `berth-${b.slice(0, 12)}`];
    hostsDirs.push(nsA, nsB);
    writeHosts(nsA, fx.provider.hostsEntriesFor(a));
    writeHosts(nsB, fx.provider.hostsEntriesFor(b));
    const ab = await runIn(nsA, ['/bin/busybox', 'ping', '-c1', '-W1', 'beta']);
    expect(ab.out).toContain(`PING beta (${ipB})`);
    expect(ab.code).toBe(0);
    const ba = await runIn(nsB, ['/bin/busybox', 'ping', '-c1', '-W1', 'alpha']);
    expect(ba.code).toBe(0);

    const details = fx.networks.inspect('app');
    expect(details.containers.map((c) => [c.name, c.ipAddress]).sort()).toEqual([
      ['alpha', `${ipA}/24`],
      ['beta', `${ipB}/24`],
    ]);

    // beta leaves: alpha is told again and its peer line goes.
    await fx.provider.teardown(b);
    expect(changes).toEqual([
      { network: 'app', containerIds: [a] },
      { network: 'app', containerIds: [a] },
    ]);
    expect(fx.provider.hostsEntriesFor(a)).toEqual([]);
  });

  it('remove is refused while containers are attached, then deletes the bridge, its rules and the leases', async () => {
    const net = fx.networks.create({ name: 'busy', subnet: `10.213.${uniqueThirdOctet()}.0/24` });
    const id = fx.newId();
    await fx.provider.setup({ containerId: id, name: 'worker', hostname: 'worker', network: 'busy', ports: [] });
    expect(linkExists(net.bridge)).toBe(true);
    // The network's own rules (made once, at its first container): masquerade and two FORWARD accepts.
    expect(iptablesMentions(`berth bridge ${net.bridge}`)).toHaveLength(3);
    await expect(fx.networks.remove('busy')).rejects.toMatchObject({
      name: 'NetworkInUseError',
      grpcCode: 9,
      message: `network "busy" has 1 attached container(s): worker (${id.slice(0, 12)}); stop or disconnect them first`,
    });
    expect(fx.networks.inspect('busy').containers).toHaveLength(1);
    await fx.provider.teardown(id);
    await fx.networks.remove('busy');
    expect(linkExists(net.bridge)).toBe(false);
    expect(iptablesMentions(net.bridge)).toEqual([]);
    expect(fs.existsSync(`${fx.stateDir}/network/ipam/busy`)).toBe(false);
    expect(() => fx.networks.inspect('busy')).toThrow('network "busy" not found');
  });

  it('network events reach NATS: create, connect, disconnect, remove', async () => {
    const nats: NatsServerHandle = await startNatsServer();
    const bus = await EventBus.connect({ url: nats.url, source: 'supervisor', node: 'test' });
    try {
      const seen: Envelope[] = [];
      const sub = bus.subscribe('network.>', (ev) => seen.push(ev));
      await fx.cleanup();
      fx = makeFixture({ bus });
      const net = fx.networks.create({ name: 'evt', subnet: `10.213.${uniqueThirdOctet()}.0/24` });
      const id = fx.newId();
      const s = await fx.provider.setup({ containerId: id, name: 'e', hostname: 'e', network: 'evt', ports: [] });
      await fx.provider.teardown(id);
      await fx.networks.remove('evt');
      await bus.flush();
      const deadline = Date.now() + 5000;
      while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      sub.unsubscribe();
      const addr = `${s.attachments[0]!.ipAddress}/24`;
      expect(seen.map((e) => [e.topic, e.subjectId, e.body?.$case === 'network' ? e.body.value : undefined])).toEqual([
        ['network.create', net.id, { network: 'evt', containerId: '', address: net.subnet }],
        ['network.connect', id, { network: 'evt', containerId: id, address: addr }],
        ['network.disconnect', id, { network: 'evt', containerId: id, address: addr }],
        ['network.remove', net.id, { network: 'evt', containerId: '', address: net.subnet }],
      ]);
      expect(seen[1]!.attributes).toEqual({ name: 'evt', container: id, containerName: 'e', type: 'bridge', networkId: net.id });
    } finally {
      await bus.close();
      await nats.dispose();
    }
  });
});
