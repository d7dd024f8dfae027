import { containersV1 } from '@berth/api';
import { logDriver, logRotationOf, validateLogConfig } from './log-config';

const lc = (type: string, options: Record<string, string> = {}) => containersV1.LogConfig.fromPartial({ type, options });

describe('log config', () => {
  it('json-file is k8s-file; none keeps nothing; no config is the default', () => {
    expect([logDriver(undefined), logDriver(lc('')), logDriver(lc('json-file')), logDriver(lc('none'))]).toEqual(['k8s-file', 'k8s-file', 'k8s-file', 'none']);
  });

  it('max-size and max-file replace the default rotation; max-file alone is refused', () => {
    expect(logRotationOf(lc('json-file', { 'max-size': '10m', 'max-file': '3' }))).toEqual({ maxSize: 10 * 1024 * 1024, maxFiles: 3 });
    expect(logRotationOf(lc('k8s-file', { 'max-size': '512k' }))).toEqual({ maxSize: 512 * 1024, maxFiles: 1 });
    expect(logRotationOf(lc('k8s-file'))).toBeUndefined();
    expect(() => logRotationOf(lc('k8s-file', { 'max-file': '2' }))).toThrow(/max-file needs max-size/);
  });

  it('refuses unknown drivers, options and values, naming them', () => {
    expect(() => validateLogConfig(lc('syslog'))).toThrow(/unsupported log driver "syslog"/);
    expect(() => validateLogConfig(lc('none', { 'max-size': '1m' }))).toThrow(/none log driver takes no options \(got max-size\)/);
    expect(() => validateLogConfig(lc('json-file', { compress: 'true' }))).toThrow(/unknown log option "compress" for json-file/);
    expect(() => validateLogConfig(lc('', { 'max-size': 'lots' }))).toThrow(/invalid log option max-size "lots"/);
    expect(() => validateLogConfig(lc('', { 'max-size': '0' }))).toThrow(/must be above 0/);
    expect(() => validateLogConfig(lc('', { 'max-size': '1m', 'max-file': '0' }))).toThrow(/invalid log option max-file "0"/);
    expect(() => validateLogConfig(lc('json-file', { 'max-size': '1m', 'max-file': '2' }))).not.toThrow();
  });
});
