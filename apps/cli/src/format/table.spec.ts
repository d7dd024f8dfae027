import { ago, humanDuration, humanSize, shortId, table } from './table';

describe('tables and human units', () => {
  it('aligns columns with three spaces, the last unpadded', () => {
    expect(table(['A', 'LONGER'], [['xxxxx', 'y'], ['z', '']])).toBe('A       LONGER\nxxxxx   y\nz\n');
  });
  it('short ids drop sha256: and keep 12 characters', () => {
    expect(shortId('sha256:0123456789abcdef')).toBe('0123456789ab');
    expect(shortId('fedcba9876543210')).toBe('fedcba987654');
  });
  it('sizes in decimal units with three significant digits', () => {
    expect(humanSize(512)).toBe('512B');
    expect(humanSize(2_130_000)).toBe('2.13MB');
    expect(humanSize(1_000_000_000)).toBe('1GB');
  });
  it('durations as docker words them', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(3000)).toBe('3 seconds');
    expect(humanDuration(65_000)).toBe('About a minute');
    expect(humanDuration(2 * 3600_000)).toBe('2 hours');
    expect(ago(new Date(Date.now() - 10_000))).toBe('10 seconds ago');
  });
});
