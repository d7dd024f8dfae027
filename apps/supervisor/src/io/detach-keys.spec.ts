import { DetachFilter, InvalidDetachKeysError, parseDetachKeys } from './detach-keys';

describe('detach keys', () => {
  it('parses docker key lists', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('ctrl-a,x')]).toEqual([1, 120]);
    expect([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_')]).toEqual([0, 27, 31]);
    expect(() => parseDetachKeys('ctrl-p,meta-q')).toThrow(InvalidDetachKeysError);
  });
  it('passes input through and detaches on the sequence, even across chunks', () => {
    const f = new DetachFilter(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(f.feed(Buffer.from('ab\x10c'))).toEqual({ forward: Buffer.from('ab\x10c'), detach: false });
    expect(f.feed(Buffer.from('x\x10'))).toEqual({ forward: Buffer.from('x'), detach: false });
    expect(f.feed(Buffer.from('\x11rest'))).toEqual({ forward: Buffer.from(''), detach: true });
  });
});
