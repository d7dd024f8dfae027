import { status } from '@grpc/grpc-js';
import { envPrefix, loadConfig, serviceTarget } from './config';
import { InvalidArgumentError, NotFoundError, toServiceError } from './errors';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig('image-store', [], {});
    expect(c).toMatchObject({
      root: '/var/lib/berth',
      stateDir: '/var/lib/berth/image-store',
      runDir: '/run/berth',
      socketPath: '/run/berth/image-store.sock',
      natsUrl: 'nats://127.0.0.1:4222',
      logLevel: 'info',
    });
    expect(c.tcpAddress).toBeUndefined();
  });

  it('takes the environment, and flags over it', () => {
    const env = { BERTH_ROOT: '/srv/b', BERTH_RUN: '/run/b', BERTH_NATS_URL: 'nats://n:1', BERTH_ROOTFS_TCP: '127.0.0.1:7002' };
    expect(loadConfig('rootfs', [], env)).toMatchObject({ stateDir: '/srv/b/rootfs', socketPath: '/run/b/rootfs.sock', natsUrl: 'nats://n:1', tcpAddress: '127.0.0.1:7002' });
    expect(loadConfig('rootfs', ['--root', '/x', '--nats-url=nats://m:2'], env)).toMatchObject({ stateDir: '/x/rootfs', natsUrl: 'nats://m:2' });
  });

  it('reads a per-service address override as a socket or TCP', () => {
    expect(loadConfig('supervisor', [], { BERTH_SUPERVISOR_ADDR: 'unix:///tmp/s.sock' }).socketPath).toBe('/tmp/s.sock');
    expect(loadConfig('supervisor', [], { BERTH_SUPERVISOR_ADDR: '127.0.0.1:7003' }).tcpAddress).toBe('127.0.0.1:7003');
    expect(loadConfig('supervisor', [], { BERTH_SUPERVISOR_ADDR: '0.0.0.0:7003', BERTH_INSECURE_TCP: '1' }).tcpAddress).toBe('0.0.0.0:7003');
    expect(serviceTarget('image-store', { BERTH_RUN: '/r' })).toBe('unix:///r/image-store.sock');
    expect(serviceTarget('image-store', { BERTH_IMAGE_STORE_ADDR: '/s.sock' })).toBe('unix:///s.sock');
    expect(envPrefix('image-store')).toBe('BERTH_IMAGE_STORE');
  });

  it('refuses TCP beyond loopback without TLS, and half a TLS configuration', () => {
    expect(() => loadConfig('rootfs', ['--tcp', '0.0.0.0:7002'], {})).toThrow(/refusing to listen on 0.0.0.0:7002 without TLS/);
    expect(loadConfig('rootfs', ['--tcp', '0.0.0.0:7002'], { BERTH_TLS_CERT: 'c', BERTH_TLS_KEY: 'k', BERTH_TLS_CA: 'a' }).tls).toEqual({ cert: 'c', key: 'k', ca: 'a' });
    expect(() => loadConfig('rootfs', [], { BERTH_TLS_CERT: 'c' })).toThrow(/TLS needs all of/);
  });

  it.each([
    [['--bogus'], /unknown argument "--bogus"/],
    [['--root'], /flag --root needs a value/],
    [['--tcp', 'nonsense'], /TCP address "nonsense" is not host:port/],
    [['--run', '/' + 'r'.repeat(120)], /longer than 107 bytes/],
  ])('refuses %p', (argv, msg) => {
    expect(() => loadConfig('inspector', argv as string[], {})).toThrow(msg);
    expect(() => loadConfig('inspector', argv as string[], {})).toThrow(InvalidArgumentError);
  });
});

describe('toServiceError', () => {
  it('maps typed errors to their status and keeps the message', () => {
    class NoSuchThing extends NotFoundError {}
    const e = toServiceError(new NoSuchThing('no such thing: x'));
    expect(e.code).toBe(status.NOT_FOUND);
    expect(e.details).toBe('no such thing: x');
  });

  it('maps a full disk to RESOURCE_EXHAUSTED and anything else to INTERNAL', () => {
    expect(toServiceError(Object.assign(new Error('write failed'), { code: 'ENOSPC' })).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(toServiceError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(toServiceError(new Error('boom')).code).toBe(status.INTERNAL);
  });
});

describe('requestIds', () => {
  it('picks the ids a request names for the log line', () => {
    const { requestIds } = require('./handlers') as typeof import('./handlers');
    expect(requestIds({ id: 'abc', force: true, reference: '', key: 'k' })).toEqual({ id: 'abc', key: 'k' });
    expect(requestIds(undefined)).toEqual({});
  });
});
