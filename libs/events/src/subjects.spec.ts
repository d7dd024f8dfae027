import { subjectFor, topicOf } from './subjects';
import { envelopeFromJson, envelopeToJson, makeEnvelope } from './envelope';

describe('subjects', () => {
  it('maps topics to subjects and back', () => {
    expect(subjectFor('container.start')).toBe('berth.events.container.start');
    expect(topicOf('berth.events.container.start')).toBe('container.start');
  });

  it.each(['container', 'Container.Start', 'a.b.c', '.x', 'x.'])('refuses the malformed topic %p', (t) => {
    expect(() => subjectFor(t)).toThrow(/is not "<domain>.<action>"/);
  });
});

describe('envelope JSON', () => {
  it('round-trips with a typed body', () => {
    const env = makeEnvelope('supervisor', 'node-1', {
      topic: 'container.die',
      subjectId: 'abc',
      attributes: { exitCode: '137' },
      body: { $case: 'container', value: { containerId: 'abc', name: 'web', image: 'busybox', exitCode: 137, signal: '', oomKilled: true, execId: '', pid: 0 } },
    });
    const back = envelopeFromJson(envelopeToJson(env));
    expect(back).toEqual(env);
    expect(JSON.parse(envelopeToJson(env)).container).toEqual({ containerId: 'abc', name: 'web', image: 'busybox', exitCode: 137, oomKilled: true });
  });
});
