import { familiarName, normaliseReference, parseReference } from './reference';
import { chainIds, sha256Digest } from './digest';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['me/app', 'docker.io/me/app:latest'],
    ['127.0.0.1:5000/app:v1', '127.0.0.1:5000/app:v1'],
    ['localhost/a/b', 'localhost/a/b:latest'],
    [`x@sha256:${'a'.repeat(64)}`, `docker.io/library/x@sha256:${'a'.repeat(64)}`],
  ])('normalises %s', (input, full) => {
    expect(normaliseReference(input)).toBe(full);
  });

  it.each(['', 'UPPER', 'a//b', 'a:b:c', 'x@sha256:zz', 'a:' + 't'.repeat(200)])('refuses %p with a reason', (input) => {
    expect(() => parseReference(input)).toThrow(/invalid image reference/);
  });

  it('prints the familiar short name', () => {
    expect(familiarName('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(familiarName('127.0.0.1:5000/app:v1')).toBe('127.0.0.1:5000/app:v1');
  });
});

describe('chain ids', () => {
  it('follow the OCI definition', () => {
    const a = sha256Digest('a');
    const b = sha256Digest('b');
    expect(chainIds([a, b])).toEqual([a, sha256Digest(`${a} ${b}`)]);
  });
});
