// volume create/ls/inspect/rm/prune, with docker's output: names on create and rm, a DRIVER/VOLUME NAME
// table, inspect's JSON (CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope), prune's prompt.
import type { Volume } from '@berth/client';
import { UsageError } from '../cli-error';
import { connect, err, out } from '../context';
import { humanSize } from '../format/table';
import { compileTemplate } from '../format/template';
import { formatRows } from './images';
import { readAnswer } from '../prompt';

export async function volumeCreate(name: string | undefined, f: { driver?: string; label?: string[]; opt?: string[] }): Promise<number> {
  const { parseLabels } = require('../parse/flags') as typeof import('../parse/flags');
  const driverOpts = parseLabels(f.opt ?? []);
  if (f.driver && f.driver !== 'local') throw new UsageError(`invalid value "${f.driver}" for -d, --driver: only local is supported`);
  const v = await connect().volumes.create({ name: name ?? '', driver: f.driver ?? 'local', labels: parseLabels(f.label ?? []), driverOpts });
  out(v.name);
  return 0;
}

/** docker volume ls's filters: dangling=true|false, name=TEXT, label=KEY[=VALUE], driver=local. */
export function volumeFilters(filters: string[]): { dangling?: boolean; names: string[]; labels: string[]; driver?: string } {
  const o: { dangling?: boolean; names: string[]; labels: string[]; driver?: string } = { names: [], labels: [] };
  for (const flt of filters) {
    const eq = flt.indexOf('=');
    const key = eq < 0 ? flt : flt.slice(0, eq);
    const value = eq < 0 ? '' : flt.slice(eq + 1);
    if (eq < 0 || (!value && key !== 'label')) throw new UsageError(`invalid filter "${flt}" for -f, --filter: use dangling=true|false, name=TEXT, label=KEY[=VALUE] or driver=local`);
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value)) throw new UsageError(`invalid filter "${flt}" for -f, --filter: dangling takes true or false`);
      o.dangling = value === 'true' || value === '1';
    } else if (key === 'name') o.names.push(value);
    else if (key === 'label') o.labels.push(value);
    else if (key === 'driver') o.driver = value;
    else throw new UsageError(`invalid filter "${flt}" for -f, --filter: unknown key "${key}"`);
  }
  return o;
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** The fields of docker's `volume ls --format`. */
function lsRow(v: Volume): Record<string, unknown> {
  return {
    Availability: 'N/A', Driver: v.driver, Group: 'N/A', Labels: labelText(v.labels), Links: String(v.containers.length),
    Mountpoint: v.mountpoint, Name: v.name, Scope: 'local', Size: humanSize(v.size), Status: 'N/A',
  };
}

export async function volumeLs(f: { quiet?: boolean; filter?: string[]; format?: string }): Promise<number> {
  const flt = volumeFilters(f.filter ?? []);
  if (f.format && f.format !== 'json') compileTemplate(f.format);
  let vols = await connect().volumes.list({ ...(flt.dangling !== undefined ? { dangling: flt.dangling } : {}), names: flt.names, labels: flt.labels });
  if (flt.driver !== undefined) vols = vols.filter((v) => v.driver === flt.driver);
  if (f.quiet) {
    for (const v of vols) out(v.name);
    return 0;
  }
  if (f.format) return formatRows(vols.map(lsRow), f.format);
  // docker's tabwriter has a minimum cell width of 10: "DRIVER    VOLUME NAME".
  const width = Math.max(10, ...vols.map((v) => v.driver.length + 3));
  for (const [d, n] of [['DRIVER', 'VOLUME NAME'], ...vols.map((v) => [v.driver, v.name])]) out(d!.padEnd(width) + n);
  return 0;
}

/** docker volume inspect's document. */
export function volumeDoc(v: Volume): Record<string, unknown> {
  return {
    CreatedAt: v.createdAt ? v.createdAt.toISOString().replace(/\.\d+Z$/, 'Z') : '',
    Driver: v.driver,
    Labels: Object.keys(v.labels).length ? v.labels : null,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: null,
    Scope: 'local',
  };
}

export async function volumeInspect(names: string[], f: { format?: string }): Promise<number> {
  const tpl = f.format && f.format !== 'json' ? compileTemplate(f.format) : undefined;
  const docs: Record<string, unknown>[] = [];
  let failed = 0;
  for (const n of names) {
    try {
      docs.push(volumeDoc(await connect().volumes.inspect(n)));
    } catch (e) {
      failed++;
      err(`Error: ${(e as Error).message}`);
    }
  }
  if (tpl) for (const d of docs) out(tpl.render(d));
  else out(JSON.stringify(docs, null, 4));
  return failed ? 1 : 0;
}

export async function volumeRm(names: string[], f: { force?: boolean }): Promise<number> {
  let failed = 0;
  for (const n of names) {
    try {
      await connect().volumes.remove(n, !!f.force);
      out(n);
    } catch (e) {
      failed++;
      err(`Error: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

export async function volumePrune(f: { force?: boolean; all?: boolean; filter?: string[] }): Promise<number> {
  const labels = (f.filter ?? []).map((x) => {
    const m = /^label=(.+)$/.exec(x);
    if (!m) throw new UsageError(`invalid filter "${x}" for --filter: only label=KEY[=VALUE] is supported`);
    return m[1]!;
  });
  if (!f.force) {
    process.stdout.write(
      f.all
        ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ',
    );
    if (!/^y(es)?$/i.test(await readAnswer())) {
      out('');
      return 0;
    }
  }
  const r = await connect().volumes.prune({ all: !!f.all, labels });
  if (r.volumesDeleted.length) process.stdout.write(`Deleted Volumes:\n${r.volumesDeleted.join('\n')}\n\n`);
  out(`Total reclaimed space: ${humanSize(r.spaceReclaimed)}`);
  return 0;
}
