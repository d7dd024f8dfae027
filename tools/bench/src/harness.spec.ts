import { formatResult, ratiosOf, runCase } from './harness';
import { summarise } from './stats';

describe('ratiosOf', () => {
  it('divides every berth subject by every peer, by median', () => {
    const r = ratiosOf({ berth: summarise([10, 20, 30]), 'berth-sdk': summarise([5]), podman: summarise([40]), node: summarise([4]) });
    expect(r).toEqual({ 'berth/podman': 0.5, 'berth/node': 5, 'berth-sdk/podman': 0.125, 'berth-sdk/node': 1.25 });
  });
});

describe('runCase', () => {
  it('interleaves subjects in a rotating order and drops the warm-up rounds', async () => {
    const order: string[] = [];
    const mk = (name: string, value: number) => ({ name, run: async () => (order.push(name), value), after: async () => void order.push(`${name}-after`) });
    const res = await runCase({ name: 'x', description: 'd', unit: 'ms', runs: 2, warmup: 1, subjects: [mk('berth', 1), mk('podman', 4)] });
    expect(order).toEqual(['berth', 'berth-after', 'podman', 'podman-after', 'podman', 'podman-after', 'berth', 'berth-after', 'berth', 'berth-after', 'podman', 'podman-after']);
    expect(res.results.berth).toMatchObject({ n: 2, median: 1 });
    expect(res.ratios).toEqual({ 'berth/podman': 0.25 });
    expect(formatResult(res)).toContain('berth/podman   0.25x');
  });
});
