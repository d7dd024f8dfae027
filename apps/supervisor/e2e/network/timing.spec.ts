// Setup and teardown times with the real plugins, printed for the report; bounded so a regression to
// seconds fails. "bridge+port" runs bridge + portmap + firewall with one published port, "bridge" has no
// published port (portmap left out), "none" makes nothing (the runtime creates its namespace).
import { makeFixture, type NetFixture } from './fixture';
import type { PortMapping } from '../../src/network/network-provider';

jest.setTimeout(60_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
}

describe('network setup timing', () => {
  let fx: NetFixture;
  beforeEach(() => {
    fx = makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('measures setup (netns + loopback + ADD) and teardown (DEL + netns del), median of 7', async () => {
    const cases: Record<string, { network: string; ports: PortMapping[] }> = {
      'bridge+port': { network: 'bridge', ports: [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }] },
      bridge: { network: 'bridge', ports: [] },
      none: { network: 'none', ports: [] },
    };
    const figures: Record<string, { setupMs: number; teardownMs: number }> = {};
    for (const [label, c] of Object.entries(cases)) {
      const add: number[] = [];
      const del: number[] = [];
      for (let i = 0; i < 7; i++) {
        const id = fx.newId();
        let t = process.hrtime.bigint();
        await fx.provider.setup({ containerId: id, name: `t${i}`, hostname: 't', ...c });
        add.push(Number(process.hrtime.bigint() - t) / 1e6);
        t = process.hrtime.bigint();
        await fx.provider.teardown(id);
        del.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      figures[label] = { setupMs: median(add), teardownMs: median(del) };
    }
    console.log(`network timing (median of 7): ${JSON.stringify(figures)}`);
    for (const f of Object.values(figures)) {
      expect(f.setupMs).toBeLessThan(2000);
      expect(f.teardownMs).toBeLessThan(2000);
    }
    expect(fx.provider.attachments()).toEqual([]);
  });
});
