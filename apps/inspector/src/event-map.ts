// Berth event envelopes as `docker events` shows them (Type, Action, Actor.ID, Actor.Attributes, time), the
// events filters, and the since/until forms docker takes. Pure.
import type { inspectorV1 } from '@berth/api';
import type { Envelope } from '@berth/events';
import { InvalidFilterError, InvalidTimeError } from './errors';
import { parseFilters, type ListFilters } from './container-list';

export const EVENT_FILTER_KEYS = ['type', 'container', 'image', 'event', 'label', 'volume'] as const;
/** Docker's types berth has, plus its own (content, snapshot, service). */
export const EVENT_TYPES = ['container', 'image', 'network', 'volume', 'content', 'snapshot', 'service'] as const;

export function parseEventFilters(filters: string[]): ListFilters {
  const f = parseFilters(filters, EVENT_FILTER_KEYS, 'events');
  for (const t of f.get('type') ?? []) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new InvalidFilterError(`invalid filter "type=${t}": a type is one of ${EVENT_TYPES.join(', ')}`);
  }
  return f;
}

/** Type and Action of a topic: exec.* (and task.*) events are about a container, as docker reports them. */
export function typeAndAction(topic: string): { type: string; action: string } {
  const dot = topic.indexOf('.');
  const domain = dot > 0 ? topic.slice(0, dot) : topic;
  const action = dot > 0 ? topic.slice(dot + 1) : '';
  if (domain === 'exec') return { type: 'container', action: `exec_${action}` };
  if (domain === 'task') return { type: 'container', action };
  return { type: domain, action };
}

export function toEventMessage(env: Envelope, sequence: number, envelopeJson: string): inspectorV1.EventMessage {
  const { type, action: bare } = typeAndAction(env.topic);
  const { networkId, healthStatus, ...attributes } = env.attributes;
  // docker's Action carries the new health ("health_status: healthy"); its attributes do not.
  // (topics take no underscore: the supervisor's is container.health-status).
  const action = bare === 'health-status' && healthStatus ? `health_status: ${healthStatus}` : bare;
  // network.connect/disconnect are published under the container's subject; docker's Actor is the network.
  const actorId = type === 'network' && networkId ? networkId : env.subjectId;
  return { type, action, actorId, actorAttributes: type === 'network' || healthStatus !== undefined ? attributes : { ...env.attributes }, time: env.time, sequence, envelopeJson };
}

function sameImage(a: string, b: string): boolean {
  const norm = (n: string) => {
    let s = n.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
    if (!s.includes('@') && !/:[^/]+$/.test(s)) s += ':latest';
    return s;
  };
  return !!a && !!b && (a === b || norm(a) === norm(b));
}

export function eventMatches(ev: inspectorV1.EventMessage, f: ListFilters): boolean {
  const attrs = ev.actorAttributes;
  const any = (key: string, pred: (v: string) => boolean) => {
    const vals = f.get(key);
    return !vals || vals.some(pred);
  };
  const containerId = ev.type === 'container' ? ev.actorId : attrs.container ?? '';
  return (
    any('type', (v) => v === ev.type) &&
    any('container', (v) => !!containerId && (containerId === v || (v.length >= 3 && containerId.startsWith(v)) || (ev.type === 'container' && attrs.name === v))) &&
    any('image', (v) => sameImage(attrs.image ?? '', v) || (ev.type === 'image' && sameImage(ev.actorId, v))) &&
    // As docker's: health_status (and exec_create, exec_start) without a colon matches each such action.
    any('event', (v) => v === ev.action || (['health_status', 'exec_create', 'exec_start'].includes(v) && ev.action.startsWith(`${v}:`))) &&
    // A volume's events have it as the Actor (its name); mount/unmount name the container as an attribute.
    any('volume', (v) => ev.type === 'volume' && ev.actorId === v) &&
    (f.get('label') ?? []).every((v) => {
      const i = v.indexOf('=');
      return i < 0 ? v in attrs : attrs[v.slice(0, i)] === v.slice(i + 1);
    })
  );
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined when the text is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return ms;
}

/** docker events --since/--until forms: a duration before now, Unix seconds (with a fraction), or an RFC 3339 time or date. */
export function parseTimeText(what: string, text: string, now = Date.now()): Date {
  const t = text.trim();
  const dur = parseGoDuration(t);
  if (dur !== undefined) return new Date(now - dur);
  if (/^\d+(\.\d{1,9})?$/.test(t)) return new Date(Math.round(Number(t) * 1000));
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const d = new Date(t.replace(' ', 'T'));
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new InvalidTimeError(what, text);
}
