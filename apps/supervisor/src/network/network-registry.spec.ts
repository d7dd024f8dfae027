import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AttachmentStore } from './attachment-store';
import { NetworkRegistry } from './network-registry';

describe('NetworkRegistry', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netreg-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('picks subnets that neither another network nor a host route uses', () => {
    const routes = path.join(dir, 'route');
    // The host routes 10.214.0.0/24 (on eth1).
    fs.writeFileSync(routes, 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n eth1\t0000D60A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n');
    const reg = new NetworkRegistry({ dir, attachments: new AttachmentStore(dir), subnetPool: '10.214.0.0/16', routeTable: routes });
    expect(reg.create({ name: 'a' }).subnet).toBe('10.214.1.0/24');
    expect(reg.create({ name: 'b' }).subnet).toBe('10.214.2.0/24');
    // Explicit subnets are the user's call, host routes or not.
    expect(reg.create({ name: 'c', subnet: '10.214.0.0/25' }).subnet).toBe('10.214.0.0/25');
  });

  it('survives a reopen: records on disk, the predefined ones from configuration', () => {
    const opts = { dir, attachments: new AttachmentStore(dir), defaultBridge: { bridge: 'btreg0', subnet: '10.213.1.0/24', gateway: '10.213.1.254' } };
    const made = new NetworkRegistry(opts).create({ name: 'keep', subnet: '10.213.2.0/24', labels: { a: 'b' } });
    const again = new NetworkRegistry(opts);
    expect(again.get('keep')).toEqual(made);
    expect(again.get('bridge')).toMatchObject({ bridge: 'btreg0', subnet: '10.213.1.0/24', gateway: '10.213.1.254', predefined: true });
    expect(again.get(made.id.slice(0, 6)).name).toBe('keep');
    expect(() => new NetworkRegistry({ ...opts, defaultBridge: { bridge: 'a-bridge-name-too-long' } })).toThrow('bridge name "a-bridge-name-too-long" must be 1-15 characters');
  });
});
