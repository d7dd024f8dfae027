// A bridge network's own iptables rules (bridge-rules.ts) against the real iptables (nft backend here):
// made once, idempotent, replaced when the subnet changes, and removed without touching anyone else's rules.
import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FILTER_CHAIN, NAT_CHAIN, ensureBridgeRules, removeBridgeRules, type RuleChains } from '../../src/network/bridge-rules';
import { uniqueThirdOctet } from './fixture';

const bridge = `bb-rules${process.pid % 10000}`;
const save = (table: string) => execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' });
const ours = () => (save('nat') + save('filter')).split('\n').filter((l) => l.includes(`"berth bridge ${bridge}"`));

afterEach(async () => {
  await removeBridgeRules(bridge);
  expect(ours()).toEqual([]);
});

it('makes the masquerade and FORWARD rules once, with the jumps to our chains', async () => {
  const subnet = `10.213.${uniqueThirdOctet()}.0/24`;
  await ensureBridgeRules(bridge, subnet, true);
  await ensureBridgeRules(bridge, subnet, true);
  const rules = ours();
  expect(rules).toHaveLength(3);
  expect(rules.find((l) => l.startsWith(`-A ${NAT_CHAIN} `))).toMatch(new RegExp(`-s ${subnet.replace(/\./g, '\\.')} ! -o ${bridge} .*-j MASQUERADE`));
  expect(rules.filter((l) => l.startsWith(`-A ${FILTER_CHAIN} `) && l.endsWith('-j ACCEPT'))).toHaveLength(2);
  expect(save('nat')).toMatch(new RegExp(`^-A POSTROUTING -j ${NAT_CHAIN}$`, 'm'));
  expect(save('filter')).toMatch(new RegExp(`^-A FORWARD -j ${FILTER_CHAIN}$`, 'm'));
  // One jump each, however many networks and calls.
  expect(save('nat').split('\n').filter((l) => l === `-A POSTROUTING -j ${NAT_CHAIN}`)).toHaveLength(1);
});

it('replaces the rules of an earlier subnet; without forward only masquerade', async () => {
  const first = `10.213.${uniqueThirdOctet()}.0/24`;
  const second = `10.213.${uniqueThirdOctet()}.0/24`;
  await ensureBridgeRules(bridge, first, true);
  await ensureBridgeRules(bridge, second, false);
  const rules = ours();
  expect(rules).toHaveLength(1);
  expect(rules[0]).toContain(`-s ${second} `);
});

it('removes only its own bridge\'s rules', async () => {
  const other = `${bridge}x`;
  await ensureBridgeRules(bridge, `10.213.${uniqueThirdOctet()}.0/24`, true);
  await ensureBridgeRules(other, `10.213.${uniqueThirdOctet()}.0/24`, true);
  try {
    expect(await removeBridgeRules(bridge)).toBe(3);
    expect(ours()).toEqual([]);
    expect((save('nat') + save('filter')).split('\n').filter((l) => l.includes(`"berth bridge ${other}"`))).toHaveLength(3);
    expect(await removeBridgeRules(bridge)).toBe(0);
  } finally {
    await removeBridgeRules(other);
  }
});

describe('on a host without our chains yet (a fresh machine)', () => {
  // Chains of this test's own, so the host's BERTH-* chains (and other suites using them) are not touched.
  const chains: RuleChains = { nat: `BT-NAT-${process.pid % 100000}`, filter: `BT-FWD-${process.pid % 100000}` };
  const bridges = [0, 1, 2, 3, 4, 5].map((i) => `bb-fresh${process.pid % 1000}-${i}`);
  const inChains = () => (save('nat') + save('filter')).split('\n').filter((l) => l.startsWith(`-A ${chains.nat} `) || l.startsWith(`-A ${chains.filter} `));
  const jumps = () => (save('nat') + save('filter')).split('\n').filter((l) => l === `-A POSTROUTING -j ${chains.nat}` || l === `-A FORWARD -j ${chains.filter}`);

  afterEach(() => {
    const ipt = (...args: string[]) => execFileSync('iptables', ['-w', ...args], { stdio: 'ignore' });
    for (const [table, from, chain] of [['nat', 'POSTROUTING', chains.nat], ['filter', 'FORWARD', chains.filter]] as const) {
      while (jumps().some((l) => l === `-A ${from} -j ${chain}`)) ipt('-t', table, '-D', from, '-j', chain);
      ipt('-t', table, '-F', chain);
      ipt('-t', table, '-X', chain);
    }
    expect(inChains()).toEqual([]);
    expect(jumps()).toEqual([]);
  });

  it('networks set up at once, by this process and by three others, all keep their rules', async () => {
    // The others load the built module, as separate supervisors on one host would.
    const dist = path.join(__dirname, '../../dist/network/bridge-rules.js');
    const other = (b: string, octet: number) =>
      promisify(execFile)(process.execPath, ['-e', `require(${JSON.stringify(dist)}).ensureBridgeRules(${JSON.stringify(b)}, "10.214.${octet}.0/24", true, ${JSON.stringify(chains)}).catch((e) => { console.error(e.message); process.exit(1); })`]);
    await Promise.all([
      ...bridges.slice(0, 3).map((b) => ensureBridgeRules(b, `10.214.${uniqueThirdOctet()}.0/24`, true, chains)),
      ...bridges.slice(3).map((b) => other(b, uniqueThirdOctet())),
    ]);
    const rules = inChains();
    for (const b of bridges) expect(rules.filter((l) => l.includes(`"berth bridge ${b}"`))).toHaveLength(3);
    expect(jumps().length).toBeGreaterThanOrEqual(2);
    // Removal takes each bridge's rules and nobody else's, whichever process made them.
    for (const b of bridges) expect(await removeBridgeRules(b)).toBe(3);
    expect(inChains()).toEqual([]);
  });
});
