// Times as Docker prints them: Go's RFC3339Nano (trailing fractional zeros dropped), and the zero time
// "0001-01-01T00:00:00Z" for a time that never happened.
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function rfc3339Nano(d: Date | undefined): string {
  if (!d || d.getTime() <= 0 || Number.isNaN(d.getTime())) return ZERO_TIME;
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

export { humanDuration } from '@berth/client';
