import type { ImageConfig } from '@berth/oci';
import { NoCommandError } from './errors';
import { DEFAULT_PATH, imageHealthcheck, mergeEnv, mergeImageConfig, parseImageConfig } from './image-config';

const img = (config: ImageConfig['config']): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config });

describe("merging the image's config (docker's rules)", () => {
  const nginxish = img({ Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: ['PATH=/bin', 'A=img'], WorkingDir: '/srv', User: 'www', StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {} }, Labels: { l: 'img', k: 'img' } });

  it('keeps the image entrypoint and cmd when the user gives neither', () => {
    const c = mergeImageConfig('x', 'sha256:1', nginxish, {});
    expect([c.entrypoint, c.cmd]).toEqual([['/docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;']]);
    expect(c).toMatchObject({ image: 'x', imageId: 'sha256:1', workingDir: '/srv', user: 'www', stopSignal: 'SIGQUIT', exposedPorts: ['80/tcp'] });
  });

  it('a command replaces Cmd and keeps the entrypoint', () => {
    const c = mergeImageConfig('x', '', nginxish, { cmd: ['sh'] });
    expect([c.entrypoint, c.cmd]).toEqual([['/docker-entrypoint.sh'], ['sh']]);
  });

  it('--entrypoint drops the image Cmd; "" clears the entrypoint', () => {
    expect(mergeImageConfig('x', '', nginxish, { entrypoint: ['/bin/sh'] })).toMatchObject({ entrypoint: ['/bin/sh'], cmd: [] });
    expect(mergeImageConfig('x', '', nginxish, { entrypoint: [], cmd: ['ls'] })).toMatchObject({ entrypoint: [], cmd: ['ls'] });
  });

  it('user values win for env, workdir, user, stop signal; labels and ports merge', () => {
    const c = mergeImageConfig('x', '', nginxish, { env: ['A=user', 'B=2'], workingDir: '/w', user: '0', stopSignal: 'SIGTERM', labels: { k: 'user' }, exposedPorts: ['53/udp', '81'] });
    expect(c.env).toEqual(['PATH=/bin', 'A=user', 'B=2']);
    expect(c).toMatchObject({ workingDir: '/w', user: '0', stopSignal: 'SIGTERM', labels: { l: 'img', k: 'user' } });
    expect(c.exposedPorts.sort()).toEqual(['53/udp', '80/tcp', '81/tcp']);
  });

  it('adds a default PATH when the image has none', () => {
    expect(mergeEnv([], ['X=1'])).toEqual([DEFAULT_PATH, 'X=1']);
  });

  it('fails with NoCommandError when there is nothing to run', () => {
    expect(() => mergeImageConfig('scratchy', '', img({}), {})).toThrow(NoCommandError);
    expect(() => mergeImageConfig('scratchy', '', img({}), {})).toThrow('no command specified: image scratchy has no Cmd or Entrypoint; give a command');
  });

  it('refuses an unreadable config blob', () => {
    expect(() => parseImageConfig('bad', '{not json')).toThrow(/^image bad has an unreadable config: /);
  });
});

it("keeps the image's VOLUME paths, adding the caller's", () => {
  const withVolumes = img({ Cmd: ['sh'], Volumes: { '/data': {}, '/logs': {} } });
  expect(mergeImageConfig('x', 'sha256:1', withVolumes, {}).volumes).toEqual(['/data', '/logs']);
  expect(mergeImageConfig('x', 'sha256:1', withVolumes, { volumes: ['/data', '/more'] }).volumes).toEqual(['/data', '/logs', '/more']);
  expect(mergeImageConfig('x', 'sha256:1', img({ Cmd: ['sh'] }), {}).volumes).toEqual([]);
});

describe("the image's HEALTHCHECK merged with --health-* (docker's rules)", () => {
  const S = 1_000_000_000;
  const withCheck = img({ Cmd: ['sh'], Healthcheck: { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 10 * S, Retries: 5 } });

  it("keeps the image's check when no flag is given, and has none when neither has one", () => {
    expect(mergeImageConfig('x', 'sha256:1', withCheck, {}).healthcheck).toEqual({
      test: ['CMD-SHELL', 'wget -q localhost'], interval: 10 * S, timeout: 0, startPeriod: 0, startInterval: 0, retries: 5,
    });
    expect(mergeImageConfig('x', 'sha256:1', img({ Cmd: ['sh'] }), {}).healthcheck).toBeUndefined();
  });

  it('replaces the fields the flags give, one by one', () => {
    expect(mergeImageConfig('x', 'sha256:1', withCheck, { healthcheck: { interval: 2 * S, timeout: S } }).healthcheck).toEqual({
      test: ['CMD-SHELL', 'wget -q localhost'], interval: 2 * S, timeout: S, startPeriod: 0, startInterval: 0, retries: 5,
    });
    expect(mergeImageConfig('x', 'sha256:1', withCheck, { healthcheck: { test: ['CMD-SHELL', 'true'], retries: 1 } }).healthcheck).toEqual({
      test: ['CMD-SHELL', 'true'], interval: 10 * S, timeout: 0, startPeriod: 0, startInterval: 0, retries: 1,
    });
  });

  it('--no-healthcheck (test NONE) disables the image check; flags alone make a check on an image without one', () => {
    expect(mergeImageConfig('x', 'sha256:1', withCheck, { healthcheck: { test: ['NONE'] } }).healthcheck!.test).toEqual(['NONE']);
    expect(mergeImageConfig('x', 'sha256:1', img({ Cmd: ['sh'] }), { healthcheck: { test: ['CMD', 'true'], startPeriod: 3 * S } }).healthcheck).toEqual({
      test: ['CMD', 'true'], interval: 0, timeout: 0, startPeriod: 3 * S, startInterval: 0, retries: 0,
    });
  });
});

it('writes a container\'s check back as an image config carries it (docker commit), zero fields left out', () => {
  const S = 1_000_000_000;
  expect(imageHealthcheck({ test: ['CMD', 'true'], interval: 2 * S, timeout: 0, startPeriod: 0, startInterval: S, retries: 4 })).toEqual({ Test: ['CMD', 'true'], Interval: 2 * S, StartInterval: S, Retries: 4 });
  expect(imageHealthcheck({ test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 })).toEqual({ Test: ['NONE'] });
});
