// cp CONTAINER:SRC HOSTDST | HOSTSRC CONTAINER:DST. Done through exec in the container (tar, or sh + cat for a
// single file), so it works wherever the supervisor is reachable; it needs tar (directories) or sh and cat
// (files) inside the image, as busybox and every distribution image have. The host side uses GNU tar.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { CliError } from '../cli-error';
import { connect } from '../context';

function split(arg: string): { ctr?: string; p: string } {
  const i = arg.indexOf(':');
  // "./a:b" or "/a:b" are host paths, as docker reads them.
  if (i <= 0 || arg.startsWith('/') || arg.startsWith('.')) return { p: arg };
  return { ctr: arg.slice(0, i), p: arg.slice(i + 1) };
}

async function execCollect(ref: string, args: string[], stdin?: NodeJS.ReadableStream, onStdout?: (b: Buffer) => void): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const s = connect().exec(ref, { args, stdin: !!stdin }, { stdout: (b) => onStdout?.(b), stderr: (b) => (stderr += b.toString()) });
  if (stdin) {
    await s.started;
    for await (const c of stdin) s.write(c as Buffer);
    s.closeStdin();
  }
  const end = await s.done;
  return { code: end.exitCode ?? 0, stderr };
}

async function fromContainer(ref: string, src: string, dst: string): Promise<void> {
  const isDir = fs.existsSync(dst) && fs.statSync(dst).isDirectory();
  const destDir = isDir ? dst : path.dirname(path.resolve(dst));
  if (!fs.existsSync(destDir)) throw new CliError(`destination directory ${destDir} does not exist`);
  const base = path.posix.basename(src) || '.';
  const tarArgs = ['-xf', '-', '-C', destDir];
  if (!isDir && path.basename(dst) !== base) tarArgs.push(`--transform=s,^${base.replace(/[,\\]/g, '\\$&')},${path.basename(dst).replace(/[,\\&]/g, '\\$&')},`);
  const tar = spawn('tar', tarArgs, { stdio: ['pipe', 'inherit', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
  const tarDone = new Promise<number | null>((r) => tar.once('close', r));
  const r = await execCollect(ref, ['tar', '-cf', '-', '-C', path.posix.dirname(src), base], undefined, (b) => tar.stdin.write(b));
  tar.stdin.end();
  const code = await tarDone;
  if (r.code !== 0) throw new CliError(`could not read ${src} in ${ref}: ${r.stderr.trim() || `tar exited ${r.code}`}`);
  if (code !== 0) throw new CliError(`could not write ${dst}: ${tarErr.trim()}`);
}

async function toContainer(src: string, ref: string, dst: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.statSync(src);
  } catch {
    throw new CliError(`could not find the file ${src} in the host`);
  }
  const dstIsDir = (await execCollect(ref, ['test', '-d', dst])).code === 0;
  if (st.isDirectory()) {
    if (!dstIsDir) throw new CliError(`destination ${dst} in ${ref} must be an existing directory to copy a directory into`);
    const tar = spawn('tar', ['-cf', '-', '-C', path.dirname(path.resolve(src)), path.basename(path.resolve(src))], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Piped at once: a child's stdout that nobody reads yet loses its bytes when the child exits first.
    const r = await execCollect(ref, ['tar', '-xf', '-', '-C', dst], tar.stdout.pipe(new PassThrough()));
    if (r.code !== 0) throw new CliError(`could not write into ${dst} in ${ref}: ${r.stderr.trim()}`);
    return;
  }
  const target = dstIsDir ? path.posix.join(dst, path.basename(src)) : dst;
  const r = await execCollect(ref, ['sh', '-c', 'cat > "$1" && chmod "$2" "$1"', 'sh', target, (st.mode & 0o7777).toString(8)], fs.createReadStream(src).pipe(new PassThrough()));
  if (r.code !== 0) throw new CliError(`could not write ${target} in ${ref}: ${r.stderr.trim()}`);
}

export async function cp(src: string, dst: string): Promise<number> {
  const a = split(src);
  const b = split(dst);
  if (a.ctr && b.ctr) throw new CliError('copying between containers is not supported');
  if (!a.ctr && !b.ctr) throw new CliError('one of source and destination must be CONTAINER:PATH');
  if (a.ctr) await fromContainer(a.ctr, a.p, b.p);
  else await toContainer(a.p, b.ctr!, b.p);
  return 0;
}
