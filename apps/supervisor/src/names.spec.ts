import { checkId, checkName, generateName, newContainerId } from './names';
import { InvalidIdError, InvalidNameError } from './errors';

describe('names and ids', () => {
  it('accepts docker names, with or without the slash, and refuses others', () => {
    expect(checkName('web-1.a_b')).toBe('web-1.a_b');
    expect(checkName('/web')).toBe('web');
    for (const bad of ['', 'a', '-x', '.x', 'a b', 'a/b', 'ü1']) expect(() => checkName(bad)).toThrow(InvalidNameError);
  });
  it('makes 64-hex ids and refuses anything else', () => {
    const id = newContainerId();
    expect(checkId(id)).toBe(id);
    expect(() => checkId(id.toUpperCase())).toThrow(InvalidIdError);
    expect(() => checkId(id.slice(1))).toThrow(InvalidIdError);
  });
  it('generates valid names that are not taken', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = generateName((x) => taken.has(x));
      expect(checkName(n)).toBe(n);
      expect(taken.has(n)).toBe(false);
      taken.add(n);
    }
  });
});
