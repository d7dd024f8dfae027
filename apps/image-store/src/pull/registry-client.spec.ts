import { isInsecure, parseChallenge, RegistryClient } from './registry-client';

describe('registry client helpers', () => {
  it('parses bearer and basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
  });
  it('uses plain HTTP only for loopback or listed registries', () => {
    expect(isInsecure('127.0.0.1:5000')).toBe(true);
    expect(isInsecure('localhost:5000')).toBe(true);
    expect(isInsecure('registry.example:5000')).toBe(false);
    expect(isInsecure('registry.example:5000', ['registry.example:5000'])).toBe(true);
    expect(new RegistryClient({ domain: 'registry.example', path: 'a/b' }).base).toBe('https://registry.example/v2/a/b');
    expect(new RegistryClient({ domain: '127.0.0.1:5000', path: 'a' }).base).toBe('http://127.0.0.1:5000/v2/a');
    expect(new RegistryClient({ domain: 'docker.io', path: 'library/busybox' }).base).toBe('https://registry-1.docker.io/v2/library/busybox');
  });
});
