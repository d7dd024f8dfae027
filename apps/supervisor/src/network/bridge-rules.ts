// The iptables rules of a bridge network, made once per network instead of once per container (docker's way):
// masquerade for what leaves the subnet through another interface, and ACCEPT in FORWARD for traffic from the
// bridge and for replies to it (matters when the FORWARD policy drops). The CNI bridge plugin's ipMasq and the
// firewall plugin did the same per container, at ~37 ms per ADD and ~78 ms per DEL here (a dozen iptables-nft
// processes each), on the critical path of every run.
//
// The rules live in our chains BERTH-POSTROUTING (nat) and BERTH-FORWARD (filter), jumped to from POSTROUTING
// and FORWARD, and carry the comment "berth bridge <name>", by which a network's rules are found and removed.
import { run } from '../runtime/oci-runtime';
import { NetworkRulesError } from './errors';

export const NAT_CHAIN = 'BERTH-POSTROUTING';
export const FILTER_CHAIN = 'BERTH-FORWARD';

type Table = 'nat' | 'filter';

export function ruleComment(bridge: string): string {
  return `berth bridge ${bridge}`;
}

/** The rules a bridge network needs, as iptables-save prints them (chain included). */
export function bridgeRules(bridge: string, subnet: string, forward: boolean): Record<Table, string[]> {
  const c = `-m comment --comment "${ruleComment(bridge)}"`;
  return {
    nat: [`-A ${NAT_CHAIN} -s ${subnet} ! -o ${bridge} ${c} -j MASQUERADE`],
    filter: forward
      ? [
          `-A ${FILTER_CHAIN} -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT`,
          `-A ${FILTER_CHAIN} -i ${bridge} ${c} -j ACCEPT`,
        ]
      : [],
  };
}

const JUMPS: Record<Table, { chain: string; from: string; add: string }> = {
  nat: { chain: NAT_CHAIN, from: 'POSTROUTING', add: `-A POSTROUTING -j ${NAT_CHAIN}` },
  filter: { chain: FILTER_CHAIN, from: 'FORWARD', add: `-I FORWARD 1 -j ${FILTER_CHAIN}` },
};

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

/** Applies "-A …"/"-D …"/":CHAIN" lines per table in one iptables-restore (without flushing anything). */
async function restore(lines: Record<Table, string[]>): Promise<void> {
  const text = (['nat', 'filter'] as Table[])
    .filter((t) => lines[t].length > 0)
    .map((t) => `*${t}\n${lines[t].join('\n')}\nCOMMIT\n`)
    .join('');
  if (text) await exec('iptables-restore', ['-w', '--noflush'], text);
}

/**
 * Makes the bridge's rules if they are not all there (idempotent): two iptables-save and at most one
 * iptables-restore. Rules of an earlier subnet of the same bridge name are replaced.
 */
export async function ensureBridgeRules(bridge: string, subnet: string, forward: boolean): Promise<void> {
  const wanted = bridgeRules(bridge, subnet, forward);
  const changes: Record<Table, string[]> = { nat: [], filter: [] };
  for (const table of ['nat', 'filter'] as Table[]) {
    const saved = await exec('iptables-save', ['-t', table]);
    const jump = JUMPS[table];
    // Declaring an existing user chain under --noflush would flush it: only new chains are declared.
    if (!saved.includes(`\n:${jump.chain} `)) changes[table].push(`:${jump.chain} - [0:0]`);
    if (!new RegExp(`^-A ${jump.from} .*-j ${jump.chain}\\s*$`, 'm').test(saved)) changes[table].push(jump.add);
    const have = ownLines(saved, bridge);
    const same = have.length === wanted[table].length && wanted[table].every((w) => have.some((h) => sameRule(h, w)));
    if (same) continue;
    changes[table].push(...have.map((l) => l.replace(/^-A /, '-D ')), ...wanted[table]);
  }
  await restore(changes);
}

/** Removes every rule carrying the bridge's comment (the chains and jumps stay, empty, like CNI's own). */
export async function removeBridgeRules(bridge: string): Promise<number> {
  const changes: Record<Table, string[]> = { nat: [], filter: [] };
  for (const table of ['nat', 'filter'] as Table[]) {
    const saved = await exec('iptables-save', ['-t', table]);
    changes[table] = ownLines(saved, bridge).map((l) => l.replace(/^-A /, '-D '));
  }
  await restore(changes);
  return changes.nat.length + changes.filter.length;
}

/** iptables-save may print a rule's matches in another order or spacing than we wrote them. */
function sameRule(saved: string, wanted: string): boolean {
  const words = (s: string) => s.split(/\s+/).filter(Boolean).sort().join(' ');
  return words(saved) === words(wanted);
}
