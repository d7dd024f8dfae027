// Times as Docker prints them: Go's RFC3339Nano (trailing fractional zeros dropped), and the zero time
// "0001-01-01T00:00:00Z" for a time that never happened.
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function rfc3339Nano(d: Date | undefined): string {
  if (!d || d.getTime() <= 0 || Number.isNaN(d.getTime())) return ZERO_TIME;
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

/** Go's units.HumanDuration, which docker ps uses for "Up 3 seconds" and "Exited (0) 2 minutes ago". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}
