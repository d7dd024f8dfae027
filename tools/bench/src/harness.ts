// Runs a benchmark case: every subject (berth, podman, docker…) in the same loop, interleaved and in a
// rotating order, after warm-up rounds, so machine noise lands on all of them alike.
import { summarise, type Summary } from './stats';

export interface Subject {
  name: string;
  /** One measured operation; resolves to a value to record, or nothing to record its wall time in ms. */
  run(): Promise<number | void>;
  /** Called after each run, not measured (e.g. remove what the run made). */
  after?(): Promise<void>;
}

export interface BenchCase {
  name: string;
  description: string;
  unit: 'ms' | 'MiB' | 's';
  subjects: Subject[];
  runs: number;
  warmup: number;
}

export interface CaseResult {
  name: string;
  description: string;
  unit: string;
  results: Record<string, Summary>;
  /** "berth/podman" → median ratio. */
  ratios: Record<string, number>;
  /** Extra figures a case reports beside its timings (phase breakdowns, counts of failures...). */
  notes?: Record<string, unknown>;
}

export async function runCase(c: BenchCase, log: (line: string) => void = () => undefined): Promise<CaseResult> {
  const samples = new Map<string, number[]>(c.subjects.map((s) => [s.name, []]));
  for (let round = 0; round < c.warmup + c.runs; round++) {
    const order = c.subjects.map((_, i) => c.subjects[(i + round) % c.subjects.length]!);
    for (const s of order) {
      const t0 = process.hrtime.bigint();
      const value = await s.run();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await s.after?.();
      if (round >= c.warmup) samples.get(s.name)!.push(typeof value === 'number' ? value : c.unit === 's' ? ms / 1000 : ms);
    }
    log(`  ${c.name}: round ${round + 1}/${c.warmup + c.runs}`);
  }
  const results: Record<string, Summary> = {};
  for (const [name, values] of samples) results[name] = summarise(values);
  return { name: c.name, description: c.description, unit: c.unit, results, ratios: ratiosOf(results) };
}

/** Every berth subject (berth, berth-sdk...) over every peer (podman, docker, node...): median ratios. */
export function ratiosOf(results: Record<string, Summary>): Record<string, number> {
  const ratios: Record<string, number> = {};
  const names = Object.keys(results);
  for (const b of names.filter((n) => n.startsWith('berth'))) {
    for (const p of names.filter((n) => !n.startsWith('berth'))) ratios[`${b}/${p}`] = results[b]!.median / results[p]!.median;
  }
  return ratios;
}

export function formatResult(r: CaseResult): string {
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const lines = [`${r.name} — ${r.description}`];
  for (const [name, s] of Object.entries(r.results)) {
    lines.push(`  ${name.padEnd(14)} median ${fmt(s.median)} ${r.unit}  (p10 ${fmt(s.p10)}, p90 ${fmt(s.p90)}, n=${s.n}, spread ${(s.spread * 100).toFixed(0)}%)`);
  }
  for (const [k, v] of Object.entries(r.ratios)) lines.push(`  ${k.padEnd(14)} ${v.toFixed(2)}x`);
  if (r.notes) lines.push(`  notes ${JSON.stringify(r.notes)}`);
  return lines.join('\n');
}
