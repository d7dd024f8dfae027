import { parseSignal } from './signals';
import { InvalidSignalError } from './errors';

describe('parseSignal', () => {
  it('accepts names with or without SIG and numbers', () => {
    expect(parseSignal('TERM')).toEqual({ name: 'SIGTERM', number: 15 });
    expect(parseSignal('sigkill')).toEqual({ name: 'SIGKILL', number: 9 });
    expect(parseSignal('9')).toEqual({ name: 'SIGKILL', number: 9 });
    expect(parseSignal('SIGUSR1').number).toBe(10);
  });
  it('refuses unknown signals', () => {
    expect(() => parseSignal('NOPE')).toThrow(InvalidSignalError);
    expect(() => parseSignal('0')).toThrow(InvalidSignalError);
    expect(() => parseSignal('65')).toThrow(InvalidSignalError);
  });
});
