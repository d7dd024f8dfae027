import { entryParts } from './tar-in';
import { EntryEscapeError } from './errors';

describe('entryParts', () => {
  it('splits a relative name, dropping "." parts and empty ones', () => {
    expect(entryParts('a/b/c')).toEqual(['a', 'b', 'c']);
    expect(entryParts('./a//b/./')).toEqual(['a', 'b']);
    expect(entryParts('./')).toEqual([]);
    expect(entryParts('a..b/..c')).toEqual(['a..b', '..c']);
  });

  it('refuses absolute names and ".." anywhere, naming the entry', () => {
    expect(() => entryParts('/etc/passwd')).toThrow(new EntryEscapeError('/etc/passwd', 'has an absolute name'));
    expect(() => entryParts('../x')).toThrow('tar entry "../x" climbs out of the target with ".."');
    expect(() => entryParts('a/../../x')).toThrow(EntryEscapeError);
    expect(() => entryParts('a/..')).toThrow(EntryEscapeError);
  });
});
