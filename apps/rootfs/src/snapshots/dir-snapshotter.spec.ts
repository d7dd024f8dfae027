import { InvalidArgumentError } from '@berth/service-kit';
import { validateKey } from './dir-snapshotter';
import { createSnapshotter, UnknownDriverError } from './index';

describe('snapshot keys', () => {
  test('empty, overlong and control-character keys are refused with the reason', () => {
    expect(() => validateKey('')).toThrow(/is empty/);
    expect(() => validateKey('x'.repeat(513))).toThrow(InvalidArgumentError);
    expect(() => validateKey('a\nb')).toThrow(/control characters/);
    expect(() => validateKey('sha256:' + 'a'.repeat(64))).not.toThrow();
  });
});

describe('createSnapshotter', () => {
  test('an unknown driver names the setting and the choices', () => {
    expect(() => createSnapshotter('zfs', '/nonexistent')).toThrow(UnknownDriverError);
    expect(() => createSnapshotter('zfs', '/nonexistent')).toThrow(/BERTH_ROOTFS_DRIVER.*"overlay" or "copy"/);
  });
});
