// ADD and DEL times with the real plugins (bridge + portmap + firewall, one published port), printed for
// the report; bounded so a regression to seconds fails.
import { makeFixture, type NetFixture } from './fixture';

jest.setTimeout(60_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
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
    const rounds = { bridge: { add: [] as number[], del: [] as number[] }, none: { add: [] as number[], del: [] as number[] } };
    for (let i = 0; i < 7; i++) {
      for (const network of ['bridge', 'none'] as const) {
        const id = fx.newId();
        const ports = network === 'bridge' ? [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' as const }] : [];
        let t = process.hrtime.bigint();
        await fx.provider.setup({ containerId: id, name: `t${i}`, hostname: 't', network, ports });
        rounds[network].add.push(Number(process.hrtime.bigint() - t) / 1e6);
        t = process.hrtime.bigint();
        await fx.provider.teardown(id);
        rounds[network].del.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
    const fig = {
      bridgeSetupMs: median(rounds.bridge.add),
      bridgeTeardownMs: median(rounds.bridge.del),
      noneSetupMs: median(rounds.none.add),
      noneTeardownMs: median(rounds.none.del),
    };
    console.log(`network timing (median of 7): ${JSON.stringify(fig)}`);
    expect(fig.bridgeSetupMs).toBeLessThan(2000);
    expect(fig.bridgeTeardownMs).toBeLessThan(2000);
    expect(fx.provider.attachments()).toEqual([]);
  });
});
