import { humanDuration, rfc3339Nano, ZERO_TIME } from './docker-time';

it('prints times as Go RFC3339Nano and the zero time when unset', () => {
  expect(rfc3339Nano(new Date('2024-01-02T03:04:05.000Z'))).toBe('2024-01-02T03:04:05Z');
  expect(rfc3339Nano(new Date('2024-01-02T03:04:05.100Z'))).toBe('2024-01-02T03:04:05.1Z');
  expect(rfc3339Nano(new Date('2024-01-02T03:04:05.123Z'))).toBe('2024-01-02T03:04:05.123Z');
  expect(rfc3339Nano(undefined)).toBe(ZERO_TIME);
  expect(rfc3339Nano(new Date(0))).toBe(ZERO_TIME);
});

it('says durations as docker does', () => {
  expect(humanDuration(500)).toBe('Less than a second');
  expect(humanDuration(1000)).toBe('1 second');
  expect(humanDuration(3500)).toBe('3 seconds');
  expect(humanDuration(61_000)).toBe('About a minute');
  expect(humanDuration(125_000)).toBe('2 minutes');
  expect(humanDuration(3_600_000)).toBe('About an hour');
  expect(humanDuration(5 * 3_600_000)).toBe('5 hours');
  expect(humanDuration(3 * 24 * 3_600_000)).toBe('3 days');
  expect(humanDuration(21 * 24 * 3_600_000)).toBe('3 weeks');
  expect(humanDuration(90 * 24 * 3_600_000)).toBe('3 months');
  expect(humanDuration(3 * 365 * 24 * 3_600_000)).toBe('3 years');
});
