import { UsageError } from '../cli-error';
import { parseBytes, parseCpus, parseDetachKeys, parseEnv, parseEnvFile, parseIntFlag, parseLabels, parseMemorySwap, parsePublish, parseRestart, parseTime } from './flags';
import { parseVolume } from './mounts';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

describe('parseBytes (--memory)', () => {
  it.each([
    ['1g', 1024 ** 3],
    ['64m', 64 * 1024 ** 2],
    ['64M', 64 * 1024 ** 2],
    ['512k', 512 * 1024],
    ['512kb', 512 * 1024],
    ['1.5g', 1.5 * 1024 ** 3],
    ['100', 100],
    ['100b', 100],
  ])('%s → %d', (v, n) => expect(parseBytes(v, '--memory')).toBe(n));

  it.each(['', 'x', '1x', '-1m', '1gg', 'm'])('refuses %p naming the flag', (v) => {
    expect(() => parseBytes(v, '--memory')).toThrow(UsageError);
    expect(() => parseBytes(v, '--memory')).toThrow(`invalid --memory "${v}"`);
  });

  it('--memory-swap takes -1 for unlimited', () => {
    expect(parseMemorySwap('-1')).toBe(-1);
    expect(parseMemorySwap('2g')).toBe(2 * 1024 ** 3);
  });
});

describe('parseCpus', () => {
  it.each([
    ['1.5', 1_500_000_000],
    ['0.5', 500_000_000],
    ['2', 2_000_000_000],
    ['.25', 250_000_000],
  ])('%s → %d nano CPUs', (v, n) => expect(parseCpus(v)).toBe(n));
  it.each(['0', '-1', 'abc', '1.5.2', ''])('refuses %p', (v) => expect(() => parseCpus(v)).toThrow(/invalid --cpus/));
});

describe('parseIntFlag', () => {
  it('reads integers and enforces the minimum', () => {
    expect(parseIntFlag('256', '--cpu-shares', 0)).toBe(256);
    expect(parseIntFlag('-1', '--pids-limit', -1)).toBe(-1);
    expect(() => parseIntFlag('-2', '--pids-limit', -1)).toThrow('invalid --pids-limit "-2": must be at least -1');
    expect(() => parseIntFlag('1.5', '--cpu-shares')).toThrow('invalid --cpu-shares "1.5": not an integer');
  });
});

describe('parsePublish (-p)', () => {
  it.each([
    ['80', [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['8080:80', [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]],
    ['127.0.0.1:8080:80/udp', [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }]],
    ['127.0.0.1::80', [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['[::1]:8080:80', [{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]],
    [
      '8080-8081:80-81',
      [
        { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '', hostPort: 8081, containerPort: 81, protocol: 'tcp' },
      ],
    ],
  ])('%s', (v, want) => expect(parsePublish(v)).toEqual(want));

  it.each([
    ['8080:80/sctp', /protocol must be tcp or udp/],
    ['70000:80', /host port "70000" is not a port number/],
    ['8080:0', /container port "0"/],
    ['a:b:c:d', /use \[\[HOST_IP:\]HOST_PORT:\]CONTAINER_PORT/],
    ['8080-8082:80-81', /ranges differ in length/],
    ['host:8080:80', /"host" is not an IP address/],
  ])('refuses %s', (v, re) => expect(() => parsePublish(v)).toThrow(re));
});

describe('parseVolume (-v)', () => {
  it('reads binds, named and anonymous volumes with modes', () => {
    expect(parseVolume('/data:/srv')).toMatchObject({ type: 'bind', source: '/data', destination: '/srv', readOnly: false });
    expect(parseVolume('/data/:/srv/x:ro')).toMatchObject({ type: 'bind', source: '/data/', destination: '/srv/x', readOnly: true });
    expect(parseVolume('data:/srv:ro,nocopy')).toMatchObject({ type: 'volume', source: 'data', destination: '/srv', readOnly: true, noCopy: true });
    expect(parseVolume('/srv')).toMatchObject({ type: 'volume', source: '', destination: '/srv' });
  });
  it.each([
    ['da/ta:/srv', /"da\/ta" is neither an absolute host path nor a volume name/],
    ['/data:srv', /destination "srv" must be an absolute path/],
    ['data', /use \/host\/path:\/container\/path/],
    ['/a:/b:rx', /unknown mode "rx"/],
    ['/a:/b:nocopy', /nocopy is for volumes/],
    [':/b', /source is empty/],
  ])('refuses %s', (v, re) => expect(() => parseVolume(v)).toThrow(re));
});

describe('parseEnv (-e, --env-file)', () => {
  it('keeps K=V, takes bare K from the environment and drops it when unset', () => {
    expect(parseEnv(['A=1', 'B', 'C', 'D='], { B: 'from-env' })).toEqual(['A=1', 'B=from-env', 'D=']);
  });
  it('refuses an empty name', () => expect(() => parseEnv(['=x'])).toThrow('invalid environment variable "=x": the name is empty'));
  it('reads env files, skipping comments and blank lines', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-env-'));
    try {
      fs.writeFileSync(path.join(dir, 'e'), '# c\nA=1\r\n\n  B=two words\nHOME\n');
      expect(parseEnvFile(path.join(dir, 'e'), { HOME: '/root' })).toEqual(['A=1', 'B=two words', 'HOME=/root']);
      expect(() => parseEnvFile(path.join(dir, 'missing'))).toThrow(`cannot read env file ${dir}/missing: ENOENT`);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('parseRestart (--restart)', () => {
  it.each([
    ['no', { name: 'no', maximumRetryCount: 0 }],
    ['always', { name: 'always', maximumRetryCount: 0 }],
    ['unless-stopped', { name: 'unless-stopped', maximumRetryCount: 0 }],
    ['on-failure', { name: 'on-failure', maximumRetryCount: 0 }],
    ['on-failure:3', { name: 'on-failure', maximumRetryCount: 3 }],
  ])('%s', (v, want) => expect(parseRestart(v)).toEqual(want));
  it.each([
    ['sometimes', /use no, always, unless-stopped or on-failure/],
    ['always:3', /only on-failure takes a retry count/],
    ['on-failure:x', /retry count "x" is not a number/],
    ['on-failure:1:2', /invalid restart policy/],
  ])('refuses %s', (v, re) => expect(() => parseRestart(v)).toThrow(re));
});

describe('labels, detach keys, times', () => {
  it('labels: k=v and bare k', () => expect(parseLabels(['a=1', 'b', 'c=x=y'])).toEqual({ a: '1', b: '', c: 'x=y' }));
  it('labels: empty key refused', () => expect(() => parseLabels(['=1'])).toThrow('invalid label "=1"'));
  it('detach keys', () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toBe('ctrl-p,ctrl-q');
    expect(parseDetachKeys('a,ctrl-@')).toBe('a,ctrl-@');
    expect(() => parseDetachKeys('ctrl-pp')).toThrow('"ctrl-pp" is not a character or ctrl-<key>');
  });
  it('times: durations, unix seconds, RFC 3339', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(parseTime('10m', '--since', now).toISOString()).toBe('2026-01-01T11:50:00.000Z');
    expect(parseTime('1h30m', '--since', now).toISOString()).toBe('2026-01-01T10:30:00.000Z');
    expect(parseTime('1700000000', '--since', now).getTime()).toBe(1_700_000_000_000);
    expect(parseTime('2026-01-01T00:00:00Z', '--until', now).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(() => parseTime('yesterday', '--since', now)).toThrow('invalid --since "yesterday"');
  });
});
