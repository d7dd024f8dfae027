// A bridge network's own iptables rules (bridge-rules.ts) against the real iptables (nft backend here):
// made once, idempotent, replaced when the subnet changes, and removed without touching anyone else's rules.
import { execFileSync } from 'node:child_process';
import { FILTER_CHAIN, NAT_CHAIN, ensureBridgeRules, removeBridgeRules } from '../../src/network/bridge-rules';
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
