// stop, restart, kill, pause, unpause, wait, rm, rename, update, diff, commit, logs: container verbs that
// act on existing containers by id, name or prefix. Verbs over several containers go on past a failure,
// print each error, and exit 1 at the end, as docker does.
import { CliError } from '../cli-error';
import { connect, err, out } from '../context';
import { parseBytes, parseCpus, parseIntFlag, parseMemorySwap, parseRestart, parseTime } from '../parse/flags';
import { resourceFlags, type ResourceFlags } from '../parse/host-flags';

async function each(refs: string[], fn: (ref: string) => Promise<void>): Promise<number> {
  let failed = 0;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (e) {
      failed++;
      err(`Error: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

export function stop(refs: string[], f: { time?: string }): Promise<number> {
  const timeout = f.time !== undefined ? parseIntFlag(f.time, '--time', -1) : -1;
  return each(refs, async (ref) => {
    await connect().containers.stop({ id: ref, timeout });
    out(ref);
  });
}

export function restart(refs: string[], f: { time?: string }): Promise<number> {
  const timeout = f.time !== undefined ? parseIntFlag(f.time, '--time', -1) : -1;
  return each(refs, async (ref) => {
    await connect().containers.restart({ id: ref, timeout });
    out(ref);
  });
}

export function kill(refs: string[], f: { signal?: string }): Promise<number> {
  return each(refs, async (ref) => {
    await connect().containers.kill({ id: ref, signal: f.signal ?? 'SIGKILL' });
    out(ref);
  });
}

export function pause(refs: string[]): Promise<number> {
  return each(refs, async (ref) => {
    await connect().containers.pause({ id: ref });
    out(ref);
  });
}

export function unpause(refs: string[]): Promise<number> {
  return each(refs, async (ref) => {
    await connect().containers.resume({ id: ref });
    out(ref);
  });
}

export function wait(refs: string[]): Promise<number> {
  return each(refs, async (ref) => {
    const r = await connect().containers.wait({ id: ref, condition: 'not-running' });
    out(String(r.exitCode));
  });
}

export function rm(refs: string[], f: { force?: boolean; volumes?: boolean }): Promise<number> {
  return each(refs, async (ref) => {
    await connect().removeContainer(ref, !!f.force, !!f.volumes);
    out(ref);
  });
}

export async function rename(ref: string, name: string): Promise<number> {
  await connect().containers.rename({ id: ref, newName: name });
  return 0;
}

export interface UpdateFlags extends ResourceFlags {
  cpuShares?: string;
  cpus?: string;
  memory?: string;
  memorySwap?: string;
  pidsLimit?: string;
  restart?: string;
}

export function update(refs: string[], f: UpdateFlags): Promise<number> {
  const resources = {
    cpuShares: f.cpuShares !== undefined ? parseIntFlag(f.cpuShares, '--cpu-shares', 0) : 0,
    nanoCpus: f.cpus !== undefined ? parseCpus(f.cpus) : 0,
    memory: f.memory !== undefined ? parseBytes(f.memory, '--memory') : 0,
    memorySwap: f.memorySwap !== undefined ? parseMemorySwap(f.memorySwap) : 0,
    pidsLimit: f.pidsLimit !== undefined ? parseIntFlag(f.pidsLimit, '--pids-limit', -1) : 0,
    ...resourceFlags(f),
  };
  const anyResource = Object.values(resources).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== 0 && v !== ''));
  const restartPolicy = f.restart ? parseRestart(f.restart) : undefined;
  if (!anyResource && !restartPolicy) throw new CliError('update needs at least one flag: --cpu-shares, --cpus, --memory, --memory-swap, --memory-reservation, --pids-limit, --cpuset-cpus, --cpuset-mems, --cpu-period, --cpu-quota or --restart');
  return each(refs, async (ref) => {
    await connect().containers.update({ id: ref, resources: anyResource ? resources : undefined, restartPolicy });
    out(ref);
  });
}

export async function diff(ref: string): Promise<number> {
  const berth = connect();
  const ctr = await berth.containers.get({ id: ref });
  const res = await berth.snapshots.changes({ key: ctr.snapshotKey });
  for (const c of res.changes) out(`${c.kind} ${c.path}`);
  return 0;
}

export async function commit(ref: string, name: string | undefined, f: { author?: string; message?: string; pause?: boolean }): Promise<number> {
  if (!name) throw new CliError('commit needs a name for the new image: berth commit CONTAINER REPOSITORY[:TAG]');
  const img = await connect().commit(ref, { name, ...(f.author ? { author: f.author } : {}), ...(f.message ? { message: f.message } : {}), pause: f.pause !== false });
  const got = await connect().images.get({ reference: img.name });
  out(got.resolved!.id);
  return 0;
}

export interface LogsFlags {
  follow?: boolean;
  timestamps?: boolean;
  since?: string;
  until?: string;
  tail?: string;
}

export async function logs(ref: string, f: LogsFlags): Promise<number> {
  const berth = connect();
  const { readStream } = require('@berth/client') as typeof import('@berth/client');
  const tail = f.tail === undefined || f.tail === 'all' ? -1 : parseIntFlag(f.tail, '--tail', 0);
  const call = berth.raw.containers.logs({
    id: ref,
    follow: !!f.follow,
    since: f.since ? parseTime(f.since, '--since') : undefined,
    until: f.until ? parseTime(f.until, '--until') : undefined,
    tail,
    stdout: true,
    stderr: true,
  });
  process.once('SIGINT', () => call.cancel());
  try {
    for await (const l of readStream(call, '/berth.containers.v1.Containers/Logs', berth.targetOf('containers'))) {
      const line = Buffer.from(l.line);
      const prefix = f.timestamps ? `${l.time?.toISOString() ?? ''} ` : '';
      const dst = l.stream === 'stderr' ? process.stderr : process.stdout;
      if (prefix) dst.write(prefix);
      dst.write(line);
    }
  } catch (e) {
    if ((e as { code?: number }).code === 1) return 0; // cancelled by ctrl-c
    throw e;
  }
  return 0;
}
