import { sortChanges } from './changes';

describe('sortChanges', () => {
  test('puts a directory right before its own entries, whatever the bytes after its name', () => {
    const paths = ['/a-b', '/a/z', '/a', '/a/b/c', '/a.txt', '/'].map((p) => ({ kind: 'A' as const, path: p }));
    expect(sortChanges(paths).map((c) => c.path)).toEqual(['/', '/a', '/a/b/c', '/a/z', '/a-b', '/a.txt']);
  });
});
