// Setup failing half way, and a crash half way: nothing is left configured either way.
import * as fs from 'node:fs';
import { AttachmentStore } from '../../src/network/attachment-store';
import type { CniConfList } from '../../src/network/cni-invoker';
import { bridgeConfList } from '../../src/network/conflist';
import { addNetns } from '../../src/network/netns';
import { makeFixture, iptablesMentions, linkExists, sh, type NetFixture } from './fixture';

jest.setTimeout(60_000);

describe('network setup failures', () => {
  let fx: NetFixture;
  beforeEach(() => {
    fx = makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('a CNI plugin failing during ADD is a typed error and everything done before it is undone', async () => {
    // A non-bridge link under the bridge's name makes the bridge plugin fail after netns and loopback.
    sh('ip', ['link', 'add', fx.bridge, 'type', 'veth', 'peer', 'name', `${fx.bridge}p`]);
    try {
      const id = fx.newId();
      await expect(fx.provider.setup({ containerId: id, name: 'x', hostname: 'x', network: 'bridge', ports: [] })).rejects.toMatchObject({
        name: 'CniPluginError',
        plugin: 'bridge',
        command: 'ADD',
        grpcCode: 13,
      });
      expect(fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)).toBe(false);
      expect(fx.provider.attachments()).toEqual([]);
      expect(iptablesMentions(id)).toEqual([]);
      const leases = fs.existsSync(`${fx.stateDir}/network/ipam/bridge`) ? fs.readdirSync(`${fx.stateDir}/network/ipam/bridge`) : [];
      expect(leases.filter((f) => f.startsWith('10.'))).toEqual([]);
    } finally {
      sh('ip', ['link', 'del', fx.bridge]); // takes its peer along
    }
  });

  it('teardown after a crash in the middle of setup (pending record, netns made, no result) cleans up', async () => {
    const id = fx.newId();
    const ns = `berth-${id.slice(0, 12)}`;
    // What a supervisor killed right after `ip netns add` and loopback leaves behind.
    const store = new AttachmentStore(`${fx.stateDir}/network`);
    const net = fx.networks.registry.get('bridge');
    store.put({
      containerId: id,
      name: 'x',
      hostname: 'x',
      network: 'bridge',
      networkId: net.id,
      netnsName: ns,
      netnsPath: `/run/netns/${ns}`,
      ifName: 'eth0',
      // As an earlier version cached it: with the firewall plugin, whose DEL needs a prevResult.
      confList: withFirewall(bridgeConfList(net, { ipamDir: fx.networks.registry.ipamDir, portmap: false })),
      ports: [],
      state: 'pending',
      created: new Date().toISOString(),
    });
    await addNetns(ns);
    const restarted = fx.reopen();
    expect(restarted.provider.setupFor(id)).toBeUndefined();
    await restarted.provider.teardown(id);
    expect(fs.existsSync(`/run/netns/${ns}`)).toBe(false);
    expect(restarted.provider.attachments()).toEqual([]);
    expect(linkExists(fx.bridge)).toBe(false);
  });

  it('teardown of a container that never had a network removes a stray namespace of its name', async () => {
    const id = fx.newId();
    await addNetns(`berth-${id.slice(0, 12)}`);
    await fx.provider.teardown(id);
    expect(fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)).toBe(false);
  });
});

function withFirewall(list: CniConfList): CniConfList {
  return { ...list, plugins: [...list.plugins, { type: 'firewall', backend: 'iptables' }] };
}
