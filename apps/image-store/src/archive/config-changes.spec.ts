import { applyChanges } from './config-changes';

describe('applyChanges (docker import --change)', () => {
  it('applies each instruction', () => {
    const c = applyChanges({ Env: ['PATH=/bin'] }, [
      'CMD echo hi',
      'ENTRYPOINT ["/init", "--"]',
      'ENV PATH=/usr/bin:/bin B="two words"',
      'ENV LEGACY some value',
      'WORKDIR /app',
      'EXPOSE 8080 53/udp',
      'USER nobody:nogroup',
      'LABEL a=1 b="x y"',
      'STOPSIGNAL SIGINT',
      'VOLUME /data',
    ]);
    expect(c).toEqual({
      Env: ['PATH=/usr/bin:/bin', 'B=two words', 'LEGACY=some value'],
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: ['/init', '--'],
      WorkingDir: '/app',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      User: 'nobody:nogroup',
      Labels: { a: '1', b: 'x y' },
      StopSignal: 'SIGINT',
      Volumes: { '/data': {} },
    });
  });
  it.each([
    ['RUN make', /unsupported instruction RUN/],
    ['CMD ["a", 1]', /not a JSON array of strings/],
    ['EXPOSE http', /"http" is not PORT/],
    ['WORKDIR relative', /must be an absolute path/],
    ['ENV', /is not "INSTRUCTION arguments"/],
  ])('refuses %p', (line, pattern) => {
    expect(() => applyChanges({}, [line])).toThrow(pattern);
  });
});
