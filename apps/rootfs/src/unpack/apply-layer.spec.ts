import { HostileArchiveError } from '../errors';
import { cleanName } from './apply-layer';
import { sniffCompression } from './decompress';

describe('cleanName', () => {
  test('splits a relative name and drops "." and empty parts', () => {
    expect(cleanName('./usr//bin/./sh')).toEqual(['usr', 'bin', 'sh']);
    expect(cleanName('./')).toEqual([]);
  });
  test('refuses absolute names and ".." anywhere', () => {
    expect(() => cleanName('/etc/passwd')).toThrow(HostileArchiveError);
    expect(() => cleanName('a/../../b')).toThrow(/has "\.\." in its name/);
    expect(() => cleanName('..', 'hard-link target')).toThrow(/hard-link target/);
  });
});

describe('sniffCompression', () => {
  test('knows gzip and zstd by their magic, anything else is a plain tar', () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(sniffCompression(Buffer.from('etc/'))).toBe('none');
    expect(sniffCompression(Buffer.alloc(0))).toBe('none');
  });
});
