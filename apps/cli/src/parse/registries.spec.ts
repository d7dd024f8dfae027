import { insecureRegistries } from './registries';

describe('insecure registries', () => {
  it('loopback registries are plain-HTTP by default, as in docker', () => {
    expect(insecureRegistries('127.0.0.1:5000/busybox:1', [], {})).toEqual(['127.0.0.1:5000']);
    expect(insecureRegistries('localhost:5000/a/b', [], {})).toEqual(['localhost:5000']);
    expect(insecureRegistries('[::1]:5000/a', [], {})).toEqual(['[::1]:5000']);
  });
  it('others only when named by flag or BERTH_INSECURE_REGISTRIES', () => {
    expect(insecureRegistries('registry.example:5000/a', [], {})).toEqual([]);
    expect(insecureRegistries('busybox', ['r1:5000'], { BERTH_INSECURE_REGISTRIES: 'r2, r3:1' })).toEqual(['r1:5000', 'r2', 'r3:1']);
  });
});
