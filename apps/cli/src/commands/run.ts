// run, create, start, attach, exec, enter: the verbs that start processes and may connect the terminal.
import type { IoSession, SessionEnd } from '@berth/client';
import * as fs from 'node:fs';
import { CliError } from '../cli-error';
import { connect, err, out } from '../context';
import { parseDetachKeys, parseEnv } from '../parse/flags';
import { connectTerminal, stdioSink, terminalSize } from '../terminal';
import { createOptions, flagWarnings, type ContainerFlags } from './create-options';

/** Without a TTY, ctrl-c and SIGTERM go to the container (docker's --sig-proxy), not to us. */
function proxySignals(id: string): () => void {
  const berth = connect();
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => void berth.containers.kill({ id, signal: sig }).catch(() => undefined);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => handlers.forEach(([s, h]) => process.off(s, h));
}

/** Follows an attach/exec session to its end with the terminal connected; returns how it ended. */
async function follow(id: string, session: IoSession, done: Promise<SessionEnd>, opts: { stdin: boolean; tty: boolean; proxy: boolean }): Promise<SessionEnd> {
  const term = connectTerminal(session, opts);
  const unproxy = opts.proxy && !opts.tty ? proxySignals(id) : () => undefined;
  try {
    return await done;
  } finally {
    unproxy();
    term.restore();
  }
}

/** --cidfile: refused before anything is made when the file exists (docker's check), written once the id is known. */
function checkCidfile(file: string | undefined): void {
  if (file && fs.existsSync(file)) throw new CliError(`Container ID file found, make sure the other container isn't running or delete ${file}`);
}

function writeCidfile(file: string | undefined, id: string): void {
  if (!file) return;
  try {
    fs.writeFileSync(file, id, { flag: 'wx' });
  } catch (e) {
    throw new CliError(`failed to write the container ID file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function run(image: string, command: string[], f: ContainerFlags): Promise<number> {
  const berth = connect();
  const opts = createOptions(image, command, f);
  checkCidfile(f.cidfile);
  for (const w of flagWarnings(f)) err(w);
  if (f.detach) {
    const res = await berth.run({ ...opts, detach: true });
    writeCidfile(f.cidfile, res.container.id);
    out(res.container.id);
    return 0;
  }
  const stdin = !!f.interactive;
  const tty = !!f.tty;
  if (tty && stdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  const size = tty ? terminalSize() : undefined;
  const res = await berth.run(
    { ...opts, attach: { stdin, stdout: true, stderr: true, ...(f.detachKeys ? { detachKeys: f.detachKeys } : {}), ...(size ? { size } : {}) } },
    stdioSink,
  );
  writeCidfile(f.cidfile, res.container.id);
  const end = await follow(res.container.id, res.session!, res.done!, { stdin, tty, proxy: true });
  if (end.detached) {
    out(res.container.id);
    return 0;
  }
  return end.exitCode ?? 0;
}

export async function create(image: string, command: string[], f: ContainerFlags): Promise<number> {
  const berth = connect();
  const opts = createOptions(image, command, f);
  checkCidfile(f.cidfile);
  for (const w of flagWarnings(f)) err(w);
  const ctr = await berth.createContainer({ ...opts, hostConfig: { ...opts.hostConfig, autoRemove: !!f.rm } });
  writeCidfile(f.cidfile, ctr.id);
  out(ctr.id);
  return 0;
}

export async function start(refs: string[], f: { attach?: boolean; interactive?: boolean; detachKeys?: string }): Promise<number> {
  const berth = connect();
  if (f.attach || f.interactive) {
    if (refs.length !== 1) throw new CliError('you cannot start and attach multiple containers at once');
    const ctr = await berth.containers.get({ id: refs[0]! });
    const tty = ctr.config!.tty;
    const stdin = !!f.interactive && ctr.config!.openStdin;
    const size = tty ? terminalSize() : undefined;
    const session = berth.attach(ctr.id, { stdin, start: true, ...(f.detachKeys ? { detachKeys: parseDetachKeys(f.detachKeys) } : {}), ...(size ? { size } : {}) }, stdioSink);
    const end = await follow(ctr.id, session, startFailureAware(berth, ctr.id, session.done), { stdin, tty, proxy: true });
    return end.detached ? 0 : (end.exitCode ?? 0);
  }
  let failed = 0;
  for (const ref of refs) {
    try {
      await berth.start(ref);
      out(ref);
    } catch (e) {
      failed++;
      process.stderr.write(`Error: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** A failed attach-with-start becomes StartFailedError (exit 126/127), as berth.start does. */
async function startFailureAware(berth: ReturnType<typeof connect>, id: string, done: Promise<SessionEnd>): Promise<SessionEnd> {
  try {
    return await done;
  } catch (err) {
    if (!/cannot start container/.test((err as Error).message)) throw err;
    // Reuse the SDK's mapping through a plain Start call's error shape.
    const { StartFailedError } = require('@berth/client') as typeof import('@berth/client');
    const c = await berth.containers.get({ id }).catch(() => undefined);
    const code = c?.state?.exitCode || (/not found|no such file/i.test((err as Error).message) ? 127 : 126);
    throw new StartFailedError((err as Error).message, code);
  }
}

export async function attach(ref: string, f: { stdin?: boolean; detachKeys?: string }): Promise<number> {
  const berth = connect();
  const ctr = await berth.containers.get({ id: ref });
  if (ctr.state!.status !== 'running' && ctr.state!.status !== 'paused') throw new CliError(`you cannot attach to a stopped container, start it first`, 1);
  const tty = ctr.config!.tty;
  const stdin = f.stdin !== false && ctr.config!.openStdin;
  const session = berth.attach(ctr.id, { stdin, ...(f.detachKeys ? { detachKeys: parseDetachKeys(f.detachKeys) } : {}) }, stdioSink);
  const size = tty ? terminalSize() : undefined;
  if (size) session.resize(size.rows, size.cols);
  const end = await follow(ctr.id, session, session.done, { stdin, tty, proxy: true });
  return end.detached ? 0 : (end.exitCode ?? 0);
}

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  user?: string;
  workdir?: string;
  env?: string[];
}

export async function exec(ref: string, args: string[], f: ExecFlags): Promise<number> {
  const berth = connect();
  if (args.length === 0) throw new CliError('exec needs a command to run');
  const stdin = !!f.interactive && !f.detach;
  const tty = !!f.tty;
  if (tty && stdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  const size = tty ? terminalSize() : undefined;
  const s = berth.exec(ref, {
    args, env: parseEnv(f.env ?? []), workingDir: f.workdir ?? '', user: f.user ?? '', tty, stdin, detach: !!f.detach, ...(size ? { size } : {}),
  }, stdioSink);
  if (f.detach) {
    await s.started;
    await s.done;
    return 0;
  }
  const end = await follow(ref, s, s.done, { stdin, tty, proxy: false });
  return end.exitCode ?? 0;
}

/**
 * enter ID [COMMAND...]: a shell (or the command) inside a running container's namespaces. Done as an exec
 * through the supervisor, which joins PID 1's mount, uts, net, pid and ipc namespaces and its cgroup (what
 * `nsenter -m -u -n -p -i -t PID` does), so it works wherever the supervisor is reachable.
 */
export function enter(ref: string, command: string[]): Promise<number> {
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  return exec(ref, command.length ? command : ['/bin/sh'], { interactive: true, tty });
}
