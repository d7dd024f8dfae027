// The stand-ins for built-ins a snapshot cannot hold: the real module is loaded on first use only, and the
// properties copied at bundle time answer without loading it.
import * as http2 from 'node:http2';
import { lazyBuiltin } from './lazy-builtin';

describe('lazyBuiltin', () => {
  it('answers eager properties without loading, and loads the real module once on first other use', () => {
    const load = jest.fn(() => http2);
    const m = lazyBuiltin('http2', load, { constants: { HTTP2_HEADER_PATH: ':path' } }) as typeof http2;
    expect(m.constants.HTTP2_HEADER_PATH).toBe(':path');
    expect(load).not.toHaveBeenCalled();
    expect(m.connect).toBe(http2.connect);
    expect(m.getDefaultSettings.call(m).initialWindowSize).toBe(http2.getDefaultSettings().initialWindowSize);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('forwards key listing, `in` and property descriptors (as __importStar and spreads use them)', () => {
    const real = { a: 1, b() { return 2; } };
    Object.defineProperty(real, 'fixed', { value: 3, configurable: false, enumerable: true });
    const m = lazyBuiltin('x', () => real, {}) as Record<string, unknown>;
    expect(Object.keys(m).sort()).toEqual(['a', 'b', 'fixed']);
    expect('b' in m).toBe(true);
    expect({ ...m }).toEqual(real);
    expect(Object.getOwnPropertyDescriptor(m, 'fixed')).toEqual({ value: 3, writable: false, enumerable: true, configurable: true });
  });
});
