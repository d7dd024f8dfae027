// The iptables rules of a bridge network, made once per network instead of once per container (docker's way):
// masquerade for what leaves the subnet through another interface, and ACCEPT in FORWARD for traffic from the
// bridge and for replies to it (matters when the FORWARD policy drops). The CNI bridge plugin's ipMasq and the
// firewall plugin did the same per container, at ~37 ms per ADD and ~78 ms per DEL here (a dozen iptables-nft
// processes each), on the critical path of every run.
//
// The rules live in our chains BERTH-POSTROUTING (nat) and BERTH-FORWARD (filter), jumped to from POSTROUTING
// and FORWARD, and carry the comment "berth bridge <name>", by which a network's rules are found and removed.
import { KeyedMutex } from '../keyed-mutex';
import { run } from '../runtime/oci-runtime';
import { NetworkRulesError } from './errors';

export const NAT_CHAIN = 'BERTH-POSTROUTING';
export const FILTER_CHAIN = 'BERTH-FORWARD';

type Table = 'nat' | 'filter';

export function ruleComment(bridge: string): string {
  return `berth bridge ${bridge}`;
}

/** The rules a bridge network needs, as iptables-save prints them (chain included). */
export function bridgeRules(bridge: string, subnet: string, forward: boolean, chains: RuleChains = CHAINS): Record<Table, string[]> {
  const c = `-m comment --comment "${ruleComment(bridge)}"`;
  return {
    nat: [`-A ${chains.nat} -s ${subnet} ! -o ${bridge} ${c} -j MASQUERADE`],
    filter: forward
      ? [
          `-A ${chains.filter} -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT`,
          `-A ${chains.filter} -i ${bridge} ${c} -j ACCEPT`,
        ]
      : [],
  };
}

/** Our chain in each table; tests use chains of their own to start from a host without them. */
export type RuleChains = Record<Table, string>;
const CHAINS: RuleChains = { nat: NAT_CHAIN, filter: FILTER_CHAIN };
const FROM: Record<Table, { chain: string; add: string[] }> = {
  nat: { chain: 'POSTROUTING', add: ['-A', 'POSTROUTING'] },
  filter: { chain: 'FORWARD', add: ['-I', 'FORWARD', '1'] },
};

// One change at a time in this process: each is a read (iptables-save) then a write computed from it.
// Other processes' changes touch only their own bridges' lines, which a --noflush restore leaves alone.
const changing = new KeyedMutex();

async function exec(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input, 15_000);
  if (r.code !== 0) throw new NetworkRulesError(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The lines of one table naming this bridge's comment. */
function ownLines(saved: string, bridge: string): string[] {
  const mark = `--comment "${ruleComment(bridge)}"`;
  return saved.split('\n').filter((l) => l.startsWith('-A ') && l.includes(mark));
}

/** Applies "-A …"/"-D …" lines per table in one iptables-restore (without flushing anything). */
async function restore(lines: Record<Table, string[]>): Promise<void> {
  const text = (['nat', 'filter'] as Table[])
    .filter((t) => lines[t].length > 0)
    .map((t) => `*${t}\n${lines[t].join('\n')}\nCOMMIT\n`)
    .join('');
  if (text) await exec('iptables-restore', ['-w', '--noflush'], text);
}

/**
 * Our chain and the jump to it, made if missing. Not through iptables-restore: declaring a chain there
 * flushes it when another process made it meanwhile, taking that process's rules with it. `-N` of a chain
 * that exists fails and changes nothing; two processes may both add the jump, which only costs a lookup.
 */
async function ensureChain(table: Table, chain: string, saved: string): Promise<void> {
  if (!saved.includes(`\n:${chain} `)) {
    const r = await run('iptables', ['-w', '-t', table, '-N', chain], undefined, 15_000);
    if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new NetworkRulesError(`iptables -t ${table} -N ${chain} failed: ${r.stderr.trim()}`);
  }
  const from = FROM[table];
  if (!new RegExp(`^-A ${from.chain} .*-j ${chain}\\s*$`, 'm').test(saved)) {
    await exec('iptables', ['-w', '-t', table, ...from.add, '-j', chain]);
  }
}

/**
 * Makes the bridge's rules if they are not all there (idempotent): two iptables-save and at most one
 * iptables-restore once the chains exist. Rules of an earlier subnet of the same bridge name are replaced.
 */
export function ensureBridgeRules(bridge: string, subnet: string, forward: boolean, chains: RuleChains = CHAINS): Promise<void> {
  return changing.run('', async () => {
    const wanted = bridgeRules(bridge, subnet, forward, chains);
    const changes: Record<Table, string[]> = { nat: [], filter: [] };
    for (const table of ['nat', 'filter'] as Table[]) {
      let saved = await exec('iptables-save', ['-t', table]);
      if (!saved.includes(`\n:${chains[table]} `) || !saved.includes(`-j ${chains[table]}`)) {
        await ensureChain(table, chains[table], saved);
        saved = await exec('iptables-save', ['-t', table]);
      }
      const have = ownLines(saved, bridge);
      const same = have.length === wanted[table].length && wanted[table].every((w) => have.some((h) => sameRule(h, w)));
      if (same) continue;
      changes[table].push(...have.map((l) => l.replace(/^-A /, '-D ')), ...wanted[table]);
    }
    await restore(changes);
  });
}

/** Removes every rule carrying the bridge's comment (the chains and jumps stay, empty, like CNI's own). */
export function removeBridgeRules(bridge: string): Promise<number> {
  return changing.run('', async () => {
    const changes: Record<Table, string[]> = { nat: [], filter: [] };
    for (const table of ['nat', 'filter'] as Table[]) {
      const saved = await exec('iptables-save', ['-t', table]);
      changes[table] = ownLines(saved, bridge).map((l) => l.replace(/^-A /, '-D '));
    }
    await restore(changes);
    return changes.nat.length + changes.filter.length;
  });
}

/** iptables-save may print a rule's matches in another order or spacing than we wrote them. */
function sameRule(saved: string, wanted: string): boolean {
  const words = (s: string) => s.split(/\s+/).filter(Boolean).sort().join(' ');
  return words(saved) === words(wanted);
}
