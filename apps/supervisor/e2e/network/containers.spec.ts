// Real containers (ContainerManager: conmon + crun on the busybox rootfs) with the CNI provider: the
// runtime joins the netns the provider made; two containers on a user network reach each other by name;
// a published port answers HTTP on 127.0.0.1; delete leaves no netns, veth or rule.
import * as fs from 'node:fs';
import * as http from 'node:http';
import { containersV1 } from '@berth/api';
import { busyboxRootfsFixture, freePort, type RootfsFixture } from '@berth/testing';
import { ContainerManager } from '../../src/container-manager';
import { iptablesMentions, makeFixture, uniqueThirdOctet, type NetFixture } from './fixture';

jest.setTimeout(90_000);

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('containers on CNI networks', () => {
  let fx: NetFixture;
  let rootfs: RootfsFixture;
  let mgr: ContainerManager;
  beforeEach(async () => {
    fx = makeFixture();
    rootfs = await busyboxRootfsFixture();
    mgr = await ContainerManager.open({ stateDir: fx.stateDir, runDir: fx.runDir, network: fx.provider, pollIntervalMs: 500 });
  });
  afterEach(async () => {
    for (const c of mgr.list(true)) await mgr.remove(c.id, true);
    await mgr.close();
    rootfs.cleanup();
    await fx.cleanup();
  });

  const create = (name: string, cmd: string[], hc: Partial<containersV1.HostConfig>) =>
    mgr.create({
      name,
      config: containersV1.ContainerConfig.fromPartial({ image: 'busybox:latest', cmd, hostname: name }),
      hostConfig: containersV1.HostConfig.fromPartial(hc),
      rootfs: rootfs.newRootfs(),
    });

  it('a web container publishes a port and a client container fetches it by name', async () => {
    fx.networks.create({ name: 'app', subnet: `10.213.${uniqueThirdOctet()}.0/24` });
    const hostPort = await freePort();
    const web = await create('web', ['sh', '-c', 'mkdir -p /www && echo served-by-web > /www/index.html && exec httpd -f -p 80 -h /www'], {
      networkMode: 'app',
      ports: [{ hostIp: '', hostPort, containerPort: 80, protocol: 'tcp' }],
    });
    await mgr.start(web.id);
    let body = '';
    for (let i = 0; i < 50 && !body; i++) {
      body = await get(hostPort).catch(() => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe('served-by-web\n');

    const client = await create('client', ['sh', '-c', 'wget -q -O - http://web/'], { networkMode: 'app' });
    await mgr.start(client.id);
    expect(await mgr.wait(client.id)).toBe(0);
    const got = mgr.get(client.id);
    expect(fs.readFileSync(got.logPath, 'utf8')).toContain('served-by-web');

    const webIp = fx.provider.setupFor(web.id)!.attachments[0]!.ipAddress;
    await mgr.remove(web.id, true);
    await mgr.remove(client.id, true);
    expect(fs.existsSync(`/run/netns/berth-${web.id.slice(0, 12)}`)).toBe(false);
    expect(iptablesMentions(web.id)).toEqual([]);
    expect(iptablesMentions(`${webIp}/32`)).toEqual([]);
    expect(fx.provider.attachments()).toEqual([]);
  });

  it('two containers on the default bridge ping each other by IP; none has only lo', async () => {
    const a = await create('pa', ['sleep', '30'], { networkMode: 'bridge' });
    await mgr.start(a.id);
    const ipA = fx.provider.setupFor(a.id)!.attachments[0]!.ipAddress;
    expect(ipA.startsWith(`${fx.prefix}.`)).toBe(true);
    const b = await create('pb', ['ping', '-c1', '-W2', ipA], { networkMode: 'bridge' });
    await mgr.start(b.id);
    expect(await mgr.wait(b.id)).toBe(0);
    expect(fs.readFileSync(mgr.get(b.id).logPath, 'utf8')).toContain('1 packets received');

    // none: the runtime's own fresh namespace, its loopback up and working, nothing under /run/netns.
    const n = await create('pn', ['sh', '-c', 'ls /sys/class/net; ip addr show lo; ping -c1 -W1 127.0.0.1'], { networkMode: 'none' });
    await mgr.start(n.id);
    expect(fs.existsSync(`/run/netns/berth-${n.id.slice(0, 12)}`)).toBe(false);
    expect(await mgr.wait(n.id)).toBe(0);
    const log = fs.readFileSync(mgr.get(n.id).logPath, 'utf8');
    expect(log).toMatch(/\blo\b/);
    expect(log).toMatch(/<LOOPBACK,UP/);
    expect(log).toContain('1 packets received');
    expect(log).not.toContain('eth0');
  });

  it('measures run --rm true (create, start, wait, delete) on bridge and none, median of 5', async () => {
    const figures: Record<string, number> = {};
    for (const networkMode of ['bridge', 'none']) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = process.hrtime.bigint();
        const c = await create(`rm-${networkMode}-${i}`, ['true'], { networkMode });
        await mgr.start(c.id);
        expect(await mgr.wait(c.id)).toBe(0);
        await mgr.remove(c.id, true);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      figures[networkMode] = Math.round([...times].sort((x, y) => x - y)[2]! * 10) / 10;
    }
    console.log(`run --rm true in-process, median of 5 (ms): ${JSON.stringify(figures)}`);
    expect(fx.provider.attachments()).toEqual([]);
    expect(figures.bridge).toBeLessThan(5000);
  });
});
