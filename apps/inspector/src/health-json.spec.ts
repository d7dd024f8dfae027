import { containersV1, imagesV1 } from '@berth/api';
import { containerToDocker } from './container-json';
import { parseListFilters, selectContainers, statusString } from './container-list';
import { InvalidFilterError } from './errors';
import { eventMatches, parseEventFilters, toEventMessage } from './event-map';
import { imageToDocker } from './image-json';
import { sampleContainer } from './sample-container.spec-fixture';

const facts = { mergedDir: '', networkIds: new Map<string, string>() };
const now = Date.parse('2024-05-01T12:00:00Z');
const health = (status: string, log: Partial<containersV1.HealthLog>[] = [], failingStreak = 0) => containersV1.Health.fromPartial({ status, failingStreak, log });

describe('inspect', () => {
  it('shows State.Health as docker does, times in RFC3339Nano', () => {
    const c = sampleContainer();
    c.state!.health = health('unhealthy', [
      { start: new Date('2024-05-01T10:00:02.100Z'), end: new Date('2024-05-01T10:00:02.150Z'), exitCode: 0, output: 'fine\n' },
      { start: new Date('2024-05-01T10:00:03Z'), end: new Date('2024-05-01T10:00:03.3Z'), exitCode: -1, output: 'Health check exceeded timeout (300ms)' },
    ], 1);
    const state = containerToDocker(c, facts).State as Record<string, unknown>;
    expect(state.Health).toEqual({
      Status: 'unhealthy',
      FailingStreak: 1,
      Log: [
        { Start: '2024-05-01T10:00:02.1Z', End: '2024-05-01T10:00:02.15Z', ExitCode: 0, Output: 'fine\n' },
        { Start: '2024-05-01T10:00:03Z', End: '2024-05-01T10:00:03.3Z', ExitCode: -1, Output: 'Health check exceeded timeout (300ms)' },
      ],
    });
    // Right after FinishedAt, as docker orders State.
    expect(Object.keys(state).slice(-2)).toEqual(['FinishedAt', 'Health']);
  });

  it('leaves State.Health and Config.Healthcheck out without a check', () => {
    const j = containerToDocker(sampleContainer(), facts);
    expect(j.State).not.toHaveProperty('Health');
    expect(j.Config).not.toHaveProperty('Healthcheck');
  });

  it('shows Config.Healthcheck with docker field names, zero fields left out, after Cmd', () => {
    const c = sampleContainer();
    c.config!.healthcheck = containersV1.Healthcheck.fromPartial({ test: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 200_000_000, retries: 2 });
    const cfg = containerToDocker(c, facts).Config as Record<string, unknown>;
    expect(cfg.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 200_000_000, Retries: 2 });
    const keys = Object.keys(cfg);
    expect(keys[keys.indexOf('Cmd') + 1]).toBe('Healthcheck');
    c.config!.healthcheck = containersV1.Healthcheck.fromPartial({ test: ['NONE'] });
    expect((containerToDocker(c, facts).Config as Record<string, unknown>).Healthcheck).toEqual({ Test: ['NONE'] });
  });
});

describe('ps', () => {
  const st = (p: Partial<containersV1.ContainerState>) => containersV1.ContainerState.fromPartial(p);
  it('adds the health to a running container\'s status as docker ps', () => {
    const startedAt = new Date(now - 3000);
    expect(statusString(st({ status: 'running', startedAt, health: health('starting') }), now)).toBe('Up 3 seconds (health: starting)');
    expect(statusString(st({ status: 'running', startedAt, health: health('healthy') }), now)).toBe('Up 3 seconds (healthy)');
    expect(statusString(st({ status: 'running', startedAt, health: health('unhealthy') }), now)).toBe('Up 3 seconds (unhealthy)');
    expect(statusString(st({ status: 'paused', startedAt, health: health('healthy') }), now)).toBe('Up 3 seconds (Paused)');
    expect(statusString(st({ status: 'exited', exitCode: 0, finishedAt: startedAt, health: health('healthy') }), now)).toBe('Exited (0) 3 seconds ago');
  });

  it('filters by health: starting, healthy, unhealthy or none', () => {
    const mk = (id: string, h?: string) => sampleContainer({ id: id.repeat(64), state: st({ status: 'running', health: h ? health(h) : undefined }) });
    const all = [mk('a', 'healthy'), mk('b', 'unhealthy'), mk('c', 'starting'), mk('d')];
    const ids = (filters: string[]) => selectContainers(all, { all: false, last: 0, filters }).map((c) => c.id[0]);
    expect(ids(['health=healthy'])).toEqual(['a']);
    expect(ids(['health=unhealthy', 'health=starting']).sort()).toEqual(['b', 'c']);
    expect(ids(['health=none'])).toEqual(['d']);
    expect(() => parseListFilters(['health=sick'])).toThrow(new InvalidFilterError('invalid filter "health=sick": a health is one of starting, healthy, unhealthy, none'));
  });
});

describe('events', () => {
  const env = (attributes: Record<string, string>) => ({
    id: 'x', time: new Date('2024-05-01T12:00:00.5Z'), topic: 'container.health-status', source: 'supervisor', node: 'n', subjectId: 'f'.repeat(64), attributes, body: undefined,
  });
  it('maps container.health-status to docker\'s "health_status: healthy" action, without the attribute', () => {
    const m = toEventMessage(env({ name: 'web', image: 'busybox', healthStatus: 'healthy' }), 1, '');
    expect(m).toMatchObject({ type: 'container', action: 'health_status: healthy', actorAttributes: { name: 'web', image: 'busybox' } });
    expect(m.actorAttributes).not.toHaveProperty('healthStatus');
  });
  it('matches event=health_status without the colon, and the exact action', () => {
    const m = toEventMessage(env({ name: 'web', image: 'busybox', healthStatus: 'unhealthy' }), 1, '');
    expect(eventMatches(m, parseEventFilters(['event=health_status']))).toBe(true);
    expect(eventMatches(m, parseEventFilters(['event=health_status: unhealthy']))).toBe(true);
    expect(eventMatches(m, parseEventFilters(['event=health_status: healthy']))).toBe(false);
    expect(eventMatches(m, parseEventFilters(['event=die']))).toBe(false);
  });
});

describe('image inspect', () => {
  const image = (config: Record<string, unknown>) => imageToDocker(imagesV1.GetImageResponse.fromPartial({
    resolved: { id: 'sha256:' + 'c'.repeat(64), configJson: Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config })), names: ['x:1'] },
  })).Config as Record<string, unknown>;
  it("shows the image's HEALTHCHECK as Config.Healthcheck, and no key without one", () => {
    expect(image({ Cmd: ['sh'], Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9 } }).Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 5e9 });
    expect(image({ Cmd: ['sh'] })).not.toHaveProperty('Healthcheck');
  });
});
