import type { ImageConfig } from '@berth/oci';
import { NoCommandError } from './errors';
import { DEFAULT_PATH, mergeEnv, mergeImageConfig, parseImageConfig } from './image-config';

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
