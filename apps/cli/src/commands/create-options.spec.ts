import { createOptions, flagWarnings } from './create-options';

describe('run/create flags → SDK create options', () => {
  it('maps docker flags to the container and host config', () => {
    const o = createOptions('busybox', ['sh', '-c', 'true'], {
      name: 'web', env: ['A=1'], memory: '1g', memorySwap: '2g', cpus: '1.5', cpuShares: '256', pidsLimit: '50',
      publish: ['127.0.0.1:8080:80'], expose: ['53/udp'], volume: ['/tmp:/data:ro'], restart: 'on-failure:3',
      init: true, readOnly: true, network: 'none', hostname: 'h', user: '1000', workdir: '/w', stopSignal: 'SIGINT',
      stopTimeout: '5', label: ['k=v'], interactive: true, tty: false, detachKeys: 'ctrl-a,x',
    });
    expect(o).toMatchObject({ image: 'busybox', name: 'web', pull: 'never', detach: false, remove: false });
    expect(o.overrides).toMatchObject({
      cmd: ['sh', '-c', 'true'], env: ['A=1'], user: '1000', workingDir: '/w', hostname: 'h', labels: { k: 'v' },
      openStdin: true, stdinOnce: true, tty: false, stopSignal: 'SIGINT', stopTimeout: 5, exposedPorts: ['53/udp', '80/tcp'],
    });
    expect(o.hostConfig).toMatchObject({
      resources: { cpuShares: 256, nanoCpus: 1_500_000_000, memory: 1024 ** 3, memorySwap: 2 * 1024 ** 3, pidsLimit: 50 },
      ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      volumes: [{ source: '/tmp', destination: '/data', readOnly: true }],
      restartPolicy: { name: 'on-failure', maximumRetryCount: 3 }, init: true, readOnly: true, networkMode: 'none', detachKeys: 'ctrl-a,x',
    });
  });

  it('-it keeps stdin open across detach (no stdin_once with a TTY); -d never sets stdin_once', () => {
    expect(createOptions('b', [], { interactive: true, tty: true }).overrides!.stdinOnce).toBe(false);
    expect(createOptions('b', [], { interactive: true, detach: true }).overrides!.stdinOnce).toBe(false);
  });

  it('--entrypoint "" clears the entrypoint; no command keeps the image Cmd', () => {
    expect(createOptions('b', [], { entrypoint: '' }).overrides).toMatchObject({ entrypoint: [] });
    expect(createOptions('b', [], {}).overrides!.cmd).toBeUndefined();
  });

  it.each([
    [{ rm: true, restart: 'always' }, 'conflicting options: --restart and --rm'],
    [{ memorySwap: '1g' }, '--memory-swap needs --memory as well'],
    [{ memory: '1g', memorySwap: '512m' }, '--memory-swap must be at least --memory'],
    [{ pull: 'sometimes' }, 'invalid --pull "sometimes": use missing, never or always'],
    [{ detachKeys: 'ctrl-xx' }, 'invalid detach keys "ctrl-xx": "ctrl-xx" is not a character or ctrl-<key>'],
  ])('refuses %j', (flags, msg) => expect(() => createOptions('b', [], flags)).toThrow(msg));

  it('warns, as docker does, that -p/-P mean nothing with --network host', () => {
    expect(flagWarnings({ network: 'host', publish: ['80:80'] })).toEqual(['WARNING: Published ports are discarded when using host network mode']);
    expect(flagWarnings({ network: 'host', publishAll: true })).toHaveLength(1);
    expect(flagWarnings({ network: 'bridge', publish: ['80:80'] })).toEqual([]);
    expect(flagWarnings({ network: 'host' })).toEqual([]);
  });
});
