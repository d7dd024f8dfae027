// docker ps: filters, Docker's status and port strings, newest first, last N. Pure over supervisor records.
import type { containersV1 } from '@berth/api';
import { humanDuration } from './docker-time';
import { InvalidFilterError } from './errors';
import { portKey } from './container-json';
import { HEALTH_FILTER_VALUES, healthFilterValue, healthText } from './health-json';

export const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;
const LIST_FILTER_KEYS = ['status', 'name', 'label', 'ancestor', 'exited', 'id', 'health'] as const;

export type ListFilters = Map<string, string[]>;

/** "key=value" strings → key → values (several values of one key are OR'ed, keys AND'ed). */
export function parseFilters(filters: string[], known: readonly string[], what: string): ListFilters {
  const out: ListFilters = new Map();
  for (const f of filters) {
    const i = f.indexOf('=');
    const key = i > 0 ? f.slice(0, i).trim().toLowerCase() : '';
    if (!key) throw new InvalidFilterError(`invalid ${what} filter "${f}": expected key=value`);
    if (!known.includes(key)) throw new InvalidFilterError(`invalid ${what} filter "${key}": known filters are ${known.join(', ')}`);
    const list = out.get(key) ?? [];
    list.push(f.slice(i + 1));
    out.set(key, list);
  }
  return out;
}

export function parseListFilters(filters: string[]): ListFilters {
  const out = parseFilters(filters, LIST_FILTER_KEYS, 'ps');
  for (const s of out.get('status') ?? []) {
    if (!(STATES as readonly string[]).includes(s)) throw new InvalidFilterError(`invalid filter "status=${s}": a status is one of ${STATES.join(', ')}`);
  }
  for (const h of out.get('health') ?? []) {
    if (!(HEALTH_FILTER_VALUES as readonly string[]).includes(h)) throw new InvalidFilterError(`invalid filter "health=${h}": a health is one of ${HEALTH_FILTER_VALUES.join(', ')}`);
  }
  for (const e of out.get('exited') ?? []) {
    if (!/^-?\d+$/.test(e)) throw new InvalidFilterError(`invalid filter "exited=${e}": an exit code is an integer`);
  }
  for (const n of out.get('name') ?? []) {
    try {
      new RegExp(n);
    } catch {
      throw new InvalidFilterError(`invalid filter "name=${n}": not a valid regular expression`);
    }
  }
  return out;
}

/** Docker's human status column. */
export function statusString(st: containersV1.ContainerState, now: number): string {
  const ago = (d: Date | undefined) => humanDuration(Math.max(0, now - (d?.getTime() ?? now)));
  switch (st.status) {
    case 'running':
      return st.health ? `Up ${ago(st.startedAt)} (${healthText(st.health)})` : `Up ${ago(st.startedAt)}`;
    case 'paused':
      return `Up ${ago(st.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${st.exitCode}) ${ago(st.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return st.finishedAt ? `Exited (${st.exitCode}) ${ago(st.finishedAt)} ago` : `Exited (${st.exitCode})`;
    default:
      return 'Created';
  }
}

/** Docker's ports column entries: "127.0.0.1:18080->80/tcp", and "80/tcp" for an exposed port not published. */
export function portStrings(c: containersV1.Container): string[] {
  const out: string[] = [];
  const published = new Set<string>();
  for (const b of c.ports) {
    const k = portKey(b.containerPort, b.protocol);
    published.add(k);
    out.push(`${b.hostIp || '0.0.0.0'}:${b.hostPort}->${k}`);
  }
  for (const e of c.config?.exposedPorts ?? []) {
    const k = e.includes('/') ? e : `${e}/tcp`;
    if (!published.has(k)) out.push(k);
  }
  return out;
}

export function commandString(cfg: containersV1.ContainerConfig | undefined): string {
  return [...(cfg?.entrypoint ?? []), ...(cfg?.cmd ?? [])].join(' ');
}

function matchesLabel(labels: Record<string, string>, want: string): boolean {
  const i = want.indexOf('=');
  if (i < 0) return want in labels;
  return labels[want.slice(0, i)] === want.slice(i + 1);
}

/** Image name forms that name the same image: "busybox" is "busybox:latest" and "docker.io/library/busybox:latest". */
function imageMatches(cfg: containersV1.ContainerConfig, want: string): boolean {
  const norm = (n: string) => {
    let s = n.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
    if (!s.includes('@') && !/:[^/]+$/.test(s)) s += ':latest';
    return s;
  };
  if (!want) return false;
  if (cfg.imageId && (cfg.imageId === want || cfg.imageId.replace(/^sha256:/, '').startsWith(want.replace(/^sha256:/, '')))) return true;
  return norm(cfg.image) === norm(want);
}

function matches(c: containersV1.Container, f: ListFilters): boolean {
  const st = c.state!;
  const any = (key: string, pred: (v: string) => boolean) => {
    const vals = f.get(key);
    return !vals || vals.some(pred);
  };
  return (
    any('status', (v) => v === st.status) &&
    any('name', (v) => new RegExp(v).test(c.name) || new RegExp(v).test('/' + c.name)) &&
    (f.get('label') ?? []).every((v) => matchesLabel(c.config?.labels ?? {}, v)) &&
    any('ancestor', (v) => imageMatches(c.config!, v)) &&
    any('exited', (v) => st.status === 'exited' && st.exitCode === Number(v)) &&
    any('id', (v) => c.id.startsWith(v)) &&
    any('health', (v) => v === healthFilterValue(st))
  );
}

export interface ListOptions {
  all: boolean;
  last: number;
  filters: string[];
}

/** The containers docker ps shows, newest first. */
export function selectContainers(all: containersV1.Container[], opts: ListOptions): containersV1.Container[] {
  const f = parseListFilters(opts.filters);
  if (opts.last < 0) throw new InvalidFilterError(`invalid last ${opts.last}: give 0 (no limit) or more`);
  // A status or exit-code filter, or asking for the last N, looks at stopped containers too (as docker does).
  const showAll = opts.all || opts.last > 0 || f.has('status') || f.has('exited');
  const sorted = [...all].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1));
  const out = sorted.filter((c) => (showAll || ['running', 'paused', 'restarting'].includes(c.state!.status)) && matches(c, f));
  return opts.last > 0 ? out.slice(0, opts.last) : out;
}
