import { humanDuration } from './human-duration';

describe('humanDuration (Go units.HumanDuration)', () => {
  it.each([
    [500, 'Less than a second'],
    [1000, '1 second'],
    [3500, '3 seconds'],
    [61_000, 'About a minute'],
    [119_000, 'About a minute'],
    [150_000, '2 minutes'],
    [89 * 60_000, 'About an hour'],
    [2 * 3600_000, '2 hours'],
    [3 * 24 * 3600_000, '3 days'],
    [20 * 24 * 3600_000, '2 weeks'],
    [90 * 24 * 3600_000, '3 months'],
    [3 * 365 * 24 * 3600_000, '3 years'],
  ])('%d ms is "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
