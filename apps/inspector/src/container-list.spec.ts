import { containersV1 } from '@berth/api';
import { InvalidFilterError } from './errors';
import { parseListFilters, portStrings, selectContainers, statusString } from './container-list';
import { sampleContainer } from './sample-container.spec-fixture';

const now = Date.parse('2024-05-01T12:00:00Z');
const st = (p: Partial<containersV1.ContainerState>) => containersV1.ContainerState.fromPartial(p);

describe('status strings', () => {
  it('matches docker ps', () => {
    expect(statusString(st({ status: 'running', startedAt: new Date(now - 3000) }), now)).toBe('Up 3 seconds');
    expect(statusString(st({ status: 'paused', startedAt: new Date(now - 120_000) }), now)).toBe('Up 2 minutes (Paused)');
    expect(statusString(st({ status: 'exited', exitCode: 0, finishedAt: new Date(now - 120_000) }), now)).toBe('Exited (0) 2 minutes ago');
    expect(statusString(st({ status: 'exited', exitCode: 137, finishedAt: new Date(now - 1000) }), now)).toBe('Exited (137) 1 second ago');
    expect(statusString(st({ status: 'created' }), now)).toBe('Created');
    expect(statusString(st({ status: 'restarting', exitCode: 1, finishedAt: new Date(now - 5000) }), now)).toBe('Restarting (1) 5 seconds ago');
    expect(statusString(st({ status: 'dead' }), now)).toBe('Dead');
    expect(statusString(st({ status: 'removing' }), now)).toBe('Removal In Progress');
  });

  it('prints published and exposed ports as docker ps', () => {
    const c = sampleContainer();
    c.config!.exposedPorts = ['80/tcp', '53/udp'];
    c.ports.push({ hostIp: '', hostPort: 8443, containerPort: 443, protocol: 'tcp' });
    expect(portStrings(c)).toEqual(['127.0.0.1:18080->80/tcp', '0.0.0.0:8443->443/tcp', '53/udp']);
  });
});

describe('filters and selection', () => {
  const mk = (id: string, name: string, created: number, state: Partial<containersV1.ContainerState>, extra: Partial<containersV1.ContainerConfig> = {}) => {
    const c = sampleContainer({ id: id.repeat(64).slice(0, 64), name, createdAt: new Date(created), state: st(state) });
    Object.assign(c.config!, extra);
    return c;
  };
  const all = [
    mk('a', 'web', 1000, { status: 'running' }, { labels: { tier: 'front' } }),
    mk('b', 'db', 2000, { status: 'exited', exitCode: 1 }, { image: 'docker.io/library/postgres:16', labels: {} }),
    mk('c', 'job', 3000, { status: 'exited', exitCode: 0 }, { labels: { tier: 'batch' } }),
    mk('d', 'new', 4000, { status: 'created' }, { labels: {} }),
  ];
  const names = (o: Parameters<typeof selectContainers>[1]) => selectContainers(all, o).map((c) => c.name);

  it('shows running ones by default, everything with all, newest first', () => {
    expect(names({ all: false, last: 0, filters: [] })).toEqual(['web']);
    expect(names({ all: true, last: 0, filters: [] })).toEqual(['new', 'job', 'db', 'web']);
  });

  it('-l and -n take the most recently created, whatever their state', () => {
    expect(names({ all: false, last: 1, filters: [] })).toEqual(['new']);
    expect(names({ all: false, last: 2, filters: ['status=exited'] })).toEqual(['job', 'db']);
  });

  it('filters by status, name, label, ancestor, exited and id', () => {
    expect(names({ all: false, last: 0, filters: ['status=exited'] })).toEqual(['job', 'db']);
    expect(names({ all: true, last: 0, filters: ['name=^j'] })).toEqual(['job']);
    expect(names({ all: true, last: 0, filters: ['label=tier'] })).toEqual(['job', 'web']);
    expect(names({ all: true, last: 0, filters: ['label=tier=front'] })).toEqual(['web']);
    expect(names({ all: true, last: 0, filters: ['ancestor=postgres:16'] })).toEqual(['db']);
    expect(names({ all: true, last: 0, filters: ['ancestor=busybox'] })).toEqual(['new', 'job', 'web']);
    expect(names({ all: false, last: 0, filters: ['exited=0'] })).toEqual(['job']);
    expect(names({ all: true, last: 0, filters: ['id=bbb'] })).toEqual(['db']);
    expect(names({ all: true, last: 0, filters: ['status=exited', 'status=created', 'label=tier'] })).toEqual(['job']);
  });

  it('refuses a bad filter naming it', () => {
    expect(() => parseListFilters(['colour=red'])).toThrow(/invalid ps filter "colour"/);
    expect(() => parseListFilters(['status=sleeping'])).toThrow(InvalidFilterError);
    expect(() => parseListFilters(['status=sleeping'])).toThrow(/status=sleeping/);
    expect(() => parseListFilters(['exited=abc'])).toThrow(/exited=abc/);
    expect(() => parseListFilters(['noequals'])).toThrow(/key=value/);
    expect(() => parseListFilters(['name=('])).toThrow(/regular expression/);
  });
});
