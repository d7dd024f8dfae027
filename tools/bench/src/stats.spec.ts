import { quantile, summarise } from './stats';

describe('summarise', () => {
  it('gives the median, the 10th/90th percentiles and the spread', () => {
    const s = summarise([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5 });
    expect(s.p10).toBeCloseTo(1.4);
    expect(s.p90).toBeCloseTo(4.6);
    expect(s.spread).toBeCloseTo((4.6 - 1.4) / 3);
  });

  it('interpolates between ranks', () => {
    expect(quantile([10, 20], 0.5)).toBe(15);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
});
