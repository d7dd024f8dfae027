import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex', () => {
  it('runs calls on one key in order, one at a time, even when one fails', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) =>
      m.run('a', async () => {
        log.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('1', 20, true), step('2', 5), m.run('b', async () => 'b')]);
    expect(log).toEqual(['1+', '1-', '2+', '2-']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });
});
