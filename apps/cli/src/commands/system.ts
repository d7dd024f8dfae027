// network create/ls/rm/inspect, system info/df/prune, version, completion.
import * as os from 'node:os';
import { CliError } from '../cli-error';
import { connect, err, out } from '../context';
import { humanSize, shortId, table } from '../format/table';
import { compileTemplate } from '../format/template';

export async function networkCreate(name: string, f: { subnet?: string; gateway?: string; label?: string[] }): Promise<number> {
  const { parseLabels } = require('../parse/flags') as typeof import('../parse/flags');
  const n = await connect().networks.create({ name, subnet: f.subnet ?? '', gateway: f.gateway ?? '', labels: parseLabels(f.label ?? []) });
  out(n.id);
  return 0;
}

export async function networkLs(f: { quiet?: boolean; filter?: string[] }): Promise<number> {
  let nameContains = '';
  for (const flt of f.filter ?? []) {
    const m = /^name=(.*)$/.exec(flt);
    if (!m) throw new CliError(`invalid filter "${flt}": only name=TEXT is supported`);
    nameContains = m[1]!;
  }
  const res = await connect().networks.list({ nameContains });
  if (f.quiet) {
    for (const n of res.networks) out(shortId(n.id));
    return 0;
  }
  process.stdout.write(table(['NETWORK ID', 'NAME', 'DRIVER', 'SUBNET'], res.networks.map((n) => [shortId(n.id), n.name, n.driver, n.subnet])));
  return 0;
}

/** docker network connect NETWORK CONTAINER: prints nothing, as docker does. */
export async function networkConnect(network: string, container: string, f: { alias?: string[]; ip?: string }): Promise<number> {
  await connect().networks.connect({ network, container, aliases: f.alias ?? [], ipv4Address: f.ip ?? '' });
  return 0;
}

export async function networkDisconnect(network: string, container: string, f: { force?: boolean }): Promise<number> {
  await connect().networks.disconnect({ network, container, force: !!f.force });
  return 0;
}

export async function networkRm(refs: string[]): Promise<number> {
  let failed = 0;
  for (const id of refs) {
    try {
      await connect().networks.remove({ id });
      out(id);
    } catch (e) {
      failed++;
      err(`Error: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

export async function networkInspect(refs: string[], f: { format?: string }): Promise<number> {
  const docs = [];
  for (const id of refs) {
    const n = await connect().networks.inspect({ id });
    docs.push({
      Name: n.name, Id: n.id, Created: n.created?.toISOString() ?? '', Driver: n.driver, Labels: n.labels,
      IPAM: { Driver: 'default', Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
      Options: n.bridge ? { 'com.docker.network.bridge.name': n.bridge } : {},
      Containers: Object.fromEntries(n.containers.map((c) => [c.containerId, { Name: c.name, MacAddress: c.macAddress, IPv4Address: c.ipAddress }])),
    });
  }
  if (f.format && f.format !== 'json') {
    const t = compileTemplate(f.format);
    for (const d of docs) out(t.render(d));
  } else out(JSON.stringify(docs, null, 4));
  return 0;
}

async function health(target: string): Promise<string> {
  const { checkHealth } = require('@berth/client') as typeof import('@berth/client');
  try {
    return await checkHealth(target);
  } catch (e) {
    return (e as { code?: number }).code === 14 ? 'unreachable' : `error: ${(e as { details?: string }).details ?? (e as Error).message}`;
  }
}

export function cliVersion(): string {
  return (require('../../package.json') as { version: string }).version;
}

export async function version(f: { format?: string }): Promise<number> {
  const berth = connect();
  const services = await Promise.all(Object.entries(berth.targets).map(async ([name, target]) => ({ Name: name, Target: target, Status: await health(target) })));
  const doc = { Client: { Version: cliVersion(), NodeVersion: process.version, Os: process.platform, Arch: process.arch }, Services: services };
  if (f.format) {
    out(f.format === 'json' ? JSON.stringify(doc) : compileTemplate(f.format).render(doc));
    return 0;
  }
  out(`Client:\n Version:       ${doc.Client.Version}\n Node version:  ${process.version}\n OS/Arch:       ${process.platform}/${process.arch}\n`);
  out('Services:');
  for (const s of services) out(` ${s.Name.padEnd(12)} ${s.Target}  ${s.Status}`);
  return 0;
}

export async function info(): Promise<number> {
  const berth = connect();
  const [ctrs, imgs] = await Promise.all([berth.containers.list({ all: true }), berth.images.list({ filter: '' })]);
  const by = (s: string) => ctrs.containers.filter((c) => c.state?.status === s).length;
  out(`Client: berth ${cliVersion()}`);
  out(`Containers: ${ctrs.containers.length}\n Running: ${by('running')}\n Paused: ${by('paused')}\n Stopped: ${ctrs.containers.length - by('running') - by('paused')}`);
  out(`Images: ${new Set(imgs.images.map((i) => i.resolved?.id)).size}`);
  out(`Runtimes: crun runc\nDefault Runtime: crun`);
  out(`Kernel Version: ${os.release()}\nOperating System: ${os.type()}\nArchitecture: ${os.arch()}\nCPUs: ${os.cpus().length}\nTotal Memory: ${humanSize(os.totalmem())}\nName: ${os.hostname()}`);
  out('Services:');
  for (const [name, target] of Object.entries(berth.targets)) out(` ${name}: ${target}`);
  return 0;
}

export async function df(): Promise<number> {
  const berth = connect();
  const [usage, ctrs, vols] = await Promise.all([berth.images.usage({}), berth.containers.list({ all: true }), berth.volumes.list()]);
  let ctrSize = 0;
  let reclaim = 0;
  for (const c of ctrs.containers) {
    const u = await berth.snapshots.usage({ key: c.snapshotKey }).catch(() => ({ size: 0 }));
    ctrSize += Number(u.size);
    if (c.state?.status !== 'running' && c.state?.status !== 'paused') reclaim += Number(u.size);
  }
  const usedIds = new Set(ctrs.containers.map((c) => c.config?.imageId));
  const active = usage.images.filter((i) => usedIds.has(i.id));
  const unusedBytes = usage.images.filter((i) => !usedIds.has(i.id)).reduce((n, i) => n + Number(i.uniqueSize), 0);
  const running = ctrs.containers.filter((c) => c.state?.status === 'running' || c.state?.status === 'paused').length;
  const pct = (a: number, b: number) => (b ? ` (${Math.round((a / b) * 100)}%)` : '');
  const volBytes = vols.reduce((n, v) => n + v.size, 0);
  const volFree = vols.filter((v) => !v.containers.length).reduce((n, v) => n + v.size, 0);
  process.stdout.write(
    table(
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      [
        ['Images', String(usage.images.length), String(active.length), humanSize(Number(usage.totalBytes)), humanSize(unusedBytes) + pct(unusedBytes, Number(usage.totalBytes))],
        ['Containers', String(ctrs.containers.length), String(running), humanSize(ctrSize), humanSize(reclaim) + pct(reclaim, ctrSize)],
        ['Local Volumes', String(vols.length), String(vols.filter((v) => v.containers.length).length), humanSize(volBytes), humanSize(volFree) + pct(volFree, volBytes)],
      ],
    ),
  );
  return 0;
}
