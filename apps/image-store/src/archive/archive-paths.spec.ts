import { cleanEntryName, resolveLinkTarget } from './archive-paths';
import { entryName } from './oci-layout';

describe('archive names', () => {
  it('normalises harmless names', () => {
    expect(cleanEntryName('./blobs/sha256/ab')).toBe('blobs/sha256/ab');
    expect(cleanEntryName('dir/')).toBe('dir');
  });
  it.each([
    ['/etc/passwd', /absolute path/],
    ['a/../../b', /path traversal/],
    ['..', /path traversal/],
    ['a\0b', /NUL byte/],
  ])('refuses %p', (name, pattern) => {
    expect(() => cleanEntryName(name)).toThrow(pattern);
  });
  it('resolves links inside the archive and refuses the rest', () => {
    expect(resolveLinkTarget('b/layer.tar', '../a/layer.tar')).toBe('a/layer.tar');
    expect(() => resolveLinkTarget('b/layer.tar', '../../x')).toThrow(/points outside the archive/);
    expect(() => resolveLinkTarget('b/layer.tar', '/x')).toThrow(/link to absolute path/);
  });
});

describe('OCI layout entry names', () => {
  const desc = (annotations: Record<string, string>) => ({ mediaType: 'm', digest: 'sha256:' + 'a'.repeat(64), size: 1, annotations });
  it('prefers the containerd full name, then ref.name, then the given name', () => {
    expect(entryName(desc({ 'io.containerd.image.name': 'docker.io/x/y:1', 'org.opencontainers.image.ref.name': '1' }), undefined)).toBe('docker.io/x/y:1');
    expect(entryName(desc({ 'org.opencontainers.image.ref.name': 'quay.io/a/b:2' }), undefined)).toBe('quay.io/a/b:2');
    expect(entryName(desc({ 'org.opencontainers.image.ref.name': 'v3' }), 'app:latest')).toBe('docker.io/library/app:v3');
    expect(entryName(desc({ 'org.opencontainers.image.ref.name': 'v3' }), undefined)).toBeUndefined();
    expect(entryName(desc({}), 'fallback:1')).toBe('fallback:1');
  });
});
