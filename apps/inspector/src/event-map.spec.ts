import type { Envelope } from '@berth/events';
import { InvalidFilterError, InvalidTimeError } from './errors';
import { eventMatches, parseEventFilters, parseGoDuration, parseTimeText, toEventMessage, typeAndAction } from './event-map';

const env = (topic: string, subjectId: string, attributes: Record<string, string>): Envelope => ({
  id: 'x', time: new Date('2024-05-01T12:00:00.5Z'), topic, source: 'supervisor', node: 'n', subjectId, attributes, body: undefined,
});

describe('event mapping', () => {
  it('maps topics to docker Type and Action', () => {
    expect(typeAndAction('container.die')).toEqual({ type: 'container', action: 'die' });
    expect(typeAndAction('exec.start')).toEqual({ type: 'container', action: 'exec_start' });
    expect(typeAndAction('image.tag')).toEqual({ type: 'image', action: 'tag' });
    expect(typeAndAction('network.connect')).toEqual({ type: 'network', action: 'connect' });
  });

  it('carries Actor id and attributes and the time', () => {
    const m = toEventMessage(env('container.die', 'f'.repeat(64), { name: 'web', image: 'busybox', exitCode: '3' }), 7, '{}');
    expect(m).toEqual({ type: 'container', action: 'die', actorId: 'f'.repeat(64), actorAttributes: { name: 'web', image: 'busybox', exitCode: '3' }, time: new Date('2024-05-01T12:00:00.5Z'), sequence: 7, envelopeJson: '{}' });
  });

  it('shows a network connect as docker does: the network is the Actor, the container an attribute', () => {
    const c = 'c'.repeat(64);
    const m = toEventMessage(env('network.connect', c, { name: 'bridge', container: c, containerName: 'web', type: 'bridge', networkId: 'n'.repeat(64) }), 3, '');
    expect(m.actorId).toBe('n'.repeat(64));
    expect(m.actorAttributes).toEqual({ name: 'bridge', container: c, containerName: 'web', type: 'bridge' });
    expect(eventMatches(m, parseEventFilters([`container=${c.slice(0, 12)}`]))).toBe(true);
  });

  it('filters by type, container id or name, image, event and label', () => {
    const die = toEventMessage(env('container.die', 'f'.repeat(64), { name: 'web', image: 'docker.io/library/busybox:latest', tier: 'a' }), 1, '');
    const tag = toEventMessage(env('image.tag', 'docker.io/library/busybox:latest', { name: 'busybox' }), 2, '');
    const m = (ev: typeof die, f: string[]) => eventMatches(ev, parseEventFilters(f));
    expect(m(die, ['type=container'])).toBe(true);
    expect(m(tag, ['type=container'])).toBe(false);
    expect(m(die, ['container=web'])).toBe(true);
    expect(m(die, ['container=fff'])).toBe(true);
    expect(m(die, ['container=other'])).toBe(false);
    expect(m(die, ['image=busybox'])).toBe(true);
    expect(m(tag, ['image=busybox:latest'])).toBe(true);
    expect(m(die, ['event=die', 'event=start'])).toBe(true);
    expect(m(die, ['event=start'])).toBe(false);
    expect(m(die, ['label=tier=a', 'type=container'])).toBe(true);
  });

  it('refuses unknown filters and types', () => {
    expect(() => parseEventFilters(['colour=red'])).toThrow(InvalidFilterError);
    expect(() => parseEventFilters(['type=volume2'])).toThrow(/type=volume2/);
  });
});

describe('since/until text', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('takes durations, Unix seconds and RFC 3339', () => {
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseTimeText('since', '10m', now).toISOString()).toBe('2024-05-01T11:50:00.000Z');
    expect(parseTimeText('since', '1714564800', now).toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTimeText('since', '1714564800.25', now).toISOString()).toBe('2024-05-01T12:00:00.250Z');
    expect(parseTimeText('since', '2024-05-01T11:00:00Z', now).toISOString()).toBe('2024-05-01T11:00:00.000Z');
    expect(parseTimeText('since', '2024-05-01T13:00:00+02:00', now).toISOString()).toBe('2024-05-01T11:00:00.000Z');
  });
  it('refuses anything else with INVALID_ARGUMENT', () => {
    for (const bad of ['yesterday', '10 minutes', '2024-13-45T99:00:00Z', '', '-5m']) expect(() => parseTimeText('since', bad, now)).toThrow(InvalidTimeError);
  });
});

describe('volume events', () => {
  const c = 'c'.repeat(64);
  const mount = toEventMessage(env('volume.mount', 'data', { driver: 'local', container: c, destination: '/d', 'read/write': 'true', propagation: '' }), 9, '');

  it("show the volume as docker's Actor, with driver and container attributes", () => {
    expect(mount).toMatchObject({ type: 'volume', action: 'mount', actorId: 'data', actorAttributes: { driver: 'local', container: c, destination: '/d', 'read/write': 'true', propagation: '' } });
    expect(toEventMessage(env('volume.destroy', 'data', { driver: 'local' }), 10, '')).toMatchObject({ type: 'volume', action: 'destroy', actorId: 'data', actorAttributes: { driver: 'local' } });
  });

  it('match type=volume, volume=NAME and container=ID filters', () => {
    expect(eventMatches(mount, parseEventFilters(['type=volume']))).toBe(true);
    expect(eventMatches(mount, parseEventFilters(['volume=data']))).toBe(true);
    expect(eventMatches(mount, parseEventFilters(['volume=other']))).toBe(false);
    expect(eventMatches(mount, parseEventFilters([`container=${c.slice(0, 12)}`]))).toBe(true);
    const die = toEventMessage(env('container.die', c, { name: 'web' }), 11, '');
    expect(eventMatches(die, parseEventFilters(['volume=data']))).toBe(false);
  });
});
