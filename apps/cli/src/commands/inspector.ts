// inspect, image inspect, top, port, ps, stats, events: the read side, served by the inspector service. The CLI
// formats what the inspector answers and computes nothing of its own.
import { CliError } from '../cli-error';
import { connect, out } from '../context';
import { compileTemplate } from '../format/template';
import { binarySize, humanDuration, humanSize, shortId, table, truncate } from '../format/table';
import { parseTime } from '../parse/flags';
import { formatRows } from './images';

function render(docs: unknown[], format: string | undefined): void {
  if (!format || format === 'json') {
    out(JSON.stringify(docs, null, 4));
    return;
  }
  const t = compileTemplate(format);
  for (const d of docs) out(t.render(d));
}

async function inspectOne(ref: string, type: string | undefined, size: boolean): Promise<unknown> {
  const { NotFoundError } = require('@berth/client') as typeof import('@berth/client');
  const berth = connect();
  if (type === 'image') return JSON.parse((await berth.inspector.inspectImage({ id: ref, size: false })).json);
  if (type === 'container') return JSON.parse((await berth.inspector.inspect({ id: ref, size })).json);
  try {
    return JSON.parse((await berth.inspector.inspect({ id: ref, size })).json);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  try {
    return JSON.parse((await berth.inspector.inspectImage({ id: ref, size: false })).json);
  } catch (e) {
    if (e instanceof NotFoundError) throw new CliError(`no such object: ${ref}`);
    throw e;
  }
}

export async function inspect(refs: string[], f: { format?: string; type?: string; size?: boolean }): Promise<number> {
  if (f.type && f.type !== 'container' && f.type !== 'image') throw new CliError(`invalid --type "${f.type}": use container or image`);
  if (f.format && f.format !== 'json') compileTemplate(f.format);
  const docs: unknown[] = [];
  let failed = 0;
  for (const r of refs) {
    try {
      docs.push(await inspectOne(r, f.type, !!f.size));
    } catch (e) {
      failed++;
      process.stderr.write(`Error: ${(e as Error).message}\n`);
    }
  }
  if (docs.length) render(docs, f.format);
  return failed ? 1 : 0;
}

export async function top(ref: string, psArgs: string[]): Promise<number> {
  const res = await connect().inspector.top({ id: ref, psArgs });
  process.stdout.write(table(res.titles, res.processes.map((p) => p.columns)));
  return 0;
}

interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** docker port: a container's published ports (inspect's NetworkSettings.Ports), or where one of them is. */
export async function port(ref: string, privatePort: string | undefined): Promise<number> {
  let key: string | undefined;
  if (privatePort !== undefined) {
    key = privatePort.includes('/') ? privatePort : `${privatePort}/tcp`;
    if (!/^\d{1,5}\/(tcp|udp)$/.test(key)) throw new CliError(`invalid port "${privatePort}": use PORT[/tcp|udp]`);
  }
  const doc = JSON.parse((await connect().inspector.inspect({ id: ref, size: false })).json) as { NetworkSettings?: { Ports?: Record<string, PortBinding[] | null> } };
  const ports = doc.NetworkSettings?.Ports ?? {};
  const where = (b: PortBinding) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}`;
  if (key) {
    const bound = (ports[key] ?? []).filter((b) => b.HostPort);
    if (bound.length === 0) throw new CliError(`no public port '${key}' published for ${ref}`, 1);
    for (const b of bound) out(where(b));
    return 0;
  }
  for (const [k, bindings] of Object.entries(ports)) for (const b of bindings ?? []) if (b.HostPort) out(`${k} -> ${where(b)}`);
  return 0;
}

export interface PsFlags {
  all?: boolean;
  latest?: boolean;
  last?: string;
  quiet?: boolean;
  size?: boolean;
  filter?: string[];
  format?: string;
  noTrunc?: boolean;
}

export async function ps(f: PsFlags): Promise<number> {
  const last = f.latest ? 1 : f.last !== undefined ? Number(f.last) : 0;
  if (!Number.isInteger(last) || last < 0) throw new CliError(`invalid --last "${f.last}": not a count`);
  for (const flt of f.filter ?? []) if (!flt.includes('=')) throw new CliError(`invalid filter "${flt}": use key=value`);
  const res = await connect().inspector.list({ all: !!f.all, last, filters: f.filter ?? [], size: !!f.size });
  const rows = res.containers.map((c) => ({
    ID: f.noTrunc ? c.id : shortId(c.id),
    Image: c.image,
    Command: f.noTrunc ? c.command : `"${truncate(c.command, 20)}"`,
    CreatedAt: c.created?.toISOString() ?? '',
    RunningFor: c.created ? humanDuration(Date.now() - c.created.getTime()) + ' ago' : '',
    Status: c.status,
    State: c.state,
    Ports: c.ports.join(', '),
    Names: c.names.map((n) => n.replace(/^\//, '')).join(','),
    Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','),
    Size: humanSize(Number(c.sizeRw)),
  }));
  if (f.quiet) {
    for (const r of rows) out(r.ID);
    return 0;
  }
  if (f.format) return formatRows(rows, f.format);
  const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
  if (f.size) header.push('SIZE');
  process.stdout.write(table(header, rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names, ...(f.size ? [r.Size] : [])])));
  return 0;
}

export async function stats(refs: string[], f: { noStream?: boolean; format?: string }): Promise<number> {
  const berth = connect();
  const { readStream } = require('@berth/client') as typeof import('@berth/client');
  const call = berth.raw.inspector.stats({ ids: refs, stream: !f.noStream });
  process.once('SIGINT', () => call.cancel());
  const tty = process.stdout.isTTY && !f.noStream;
  try {
    for await (const s of readStream(call, '/berth.inspector.v1.Inspector/Stats', berth.targetOf('inspector'))) {
      const rows = s.stats.map((c) => ({
        ID: shortId(c.id),
        Name: c.name,
        CPUPerc: `${c.cpuPercent.toFixed(2)}%`,
        MemUsage: `${binarySize(Number(c.memoryUsage))} / ${binarySize(Number(c.memoryLimit))}`,
        MemPerc: c.memoryLimit ? `${((Number(c.memoryUsage) / Number(c.memoryLimit)) * 100).toFixed(2)}%` : '0.00%',
        NetIO: `${humanSize(Number(c.netRx))} / ${humanSize(Number(c.netTx))}`,
        BlockIO: `${humanSize(Number(c.blockRead))} / ${humanSize(Number(c.blockWrite))}`,
        PIDs: String(c.pids),
      }));
      if (tty) process.stdout.write('\x1b[2J\x1b[H');
      if (f.format) formatRows(rows, f.format);
      else process.stdout.write(table(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'], rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs])));
      if (f.noStream) break;
    }
  } catch (e) {
    if ((e as { code?: number }).code === 1) return 0;
    throw e;
  }
  return 0;
}

export async function events(f: { since?: string; until?: string; filter?: string[]; format?: string }): Promise<number> {
  const berth = connect();
  const { readStream } = require('@berth/client') as typeof import('@berth/client');
  for (const flt of f.filter ?? []) if (!flt.includes('=')) throw new CliError(`invalid filter "${flt}": use key=value`);
  const tpl = f.format && f.format !== 'json' ? compileTemplate(f.format) : undefined;
  // Checked here for a clear error before the call; the inspector parses the same forms itself.
  if (f.since) parseTime(f.since, '--since');
  if (f.until) parseTime(f.until, '--until');
  const api = require('@berth/api') as typeof import('@berth/api');
  const call = berth.raw.inspector.events(api.inspectorV1.EventsRequest.fromPartial({ sinceText: f.since ?? '', untilText: f.until ?? '', filters: f.filter ?? [] }));
  process.once('SIGINT', () => call.cancel());
  try {
    for await (const e of readStream(call, '/berth.inspector.v1.Inspector/Events', berth.targetOf('inspector'))) {
      const doc = { Type: e.type, Action: e.action, Actor: { ID: e.actorId, Attributes: e.actorAttributes }, time: Math.floor((e.time?.getTime() ?? 0) / 1000), timeNano: (e.time?.getTime() ?? 0) * 1e6, id: e.actorId, status: e.action };
      if (f.format === 'json') out(JSON.stringify(doc));
      else if (tpl) out(tpl.render(doc));
      else {
        const attrs = Object.entries(e.actorAttributes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ');
        out(`${e.time?.toISOString() ?? ''} ${e.type} ${e.action} ${e.actorId}${attrs ? ` (${attrs})` : ''}`);
      }
    }
  } catch (e) {
    if ((e as { code?: number }).code === 1) return 0;
    throw e;
  }
  return 0;
}
