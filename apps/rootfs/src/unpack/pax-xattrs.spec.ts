import { decodePax, encodePax, XATTR_PAX_PREFIX } from './pax-xattrs';

describe('PAX records with binary xattr values', () => {
  test('round-trip xattr bytes exactly and other records as UTF-8', () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0xfe, 0x80, 0x0a]);
    const encoded = encodePax({ name: 'dir/é', pax: { [XATTR_PAX_PREFIX + 'security.capability']: bytes.toString('latin1'), comment: 'ünïcode' } });
    const decoded = decodePax(encoded);
    expect(decoded.path).toBe('dir/é');
    expect(decoded.comment).toBe('ünïcode');
    expect(Buffer.from(decoded[XATTR_PAX_PREFIX + 'security.capability']!, 'latin1')).toEqual(bytes);
  });

  test('each record’s length counts its own digits', () => {
    // " path=" + 93 bytes + "\n" is 100 bytes: with 3 digits the record is 103 long, not 102.
    const rec = encodePax({ name: 'x'.repeat(93) });
    expect(rec.toString().startsWith('103 path=')).toBe(true);
    expect(rec.length).toBe(103);
    expect(decodePax(rec).path).toBe('x'.repeat(93));
  });
});
