// cp CONTAINER:SRC DEST|- | SRC|- CONTAINER:DEST, as docker cp: through the supervisor's Archive service,
// so nothing is needed inside the image and stopped containers work too. The destination rules are docker's
// (PrepareArchiveCopy): an existing directory receives the source under its own name ("SRC/." its
// contents), a missing path becomes the copy, a directory never lands on a file. `-` streams a tar on
// stdin/stdout. Failures exit 1, as docker cp's do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PathStat } from '@berth/client';
import { CliError } from '../cli-error';
import { connect } from '../context';
import { CopyError, extractToHost, packHostPath } from './host-tar';

export interface CpOptions {
  archive?: boolean;
  followLink?: boolean;
  quiet?: boolean;
}

function split(arg: string): { ctr?: string; p: string } {
  const i = arg.indexOf(':');
  // "./a:b" or "/a:b" are host paths, as docker reads them.
  if (i <= 0 || arg.startsWith('/') || arg.startsWith('.')) return { p: arg };
  return { ctr: arg.slice(0, i), p: arg.slice(i + 1) };
}

/** SRC ends with "/." (or is "."): copy the directory's contents, not the directory. */
function contentsOf(p: string): boolean {
  return p === '.' || p.endsWith('/.');
}

/** DEST ends with a separator: it must be a directory. */
function assertsDir(p: string): boolean {
  return p.endsWith('/') || contentsOf(p);
}

function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let u = 0;
  let v = n;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u ? v.toFixed(2).replace(/\.?0+$/, '') : v}${units[u]}`;
}

function report(bytes: number, to: string, o: CpOptions): void {
  // docker prints this on a terminal only.
  if (!o.quiet && process.stderr.isTTY) process.stderr.write(`Successfully copied ${human(bytes)} to ${to}\n`);
}

async function fromContainer(ref: string, src: string, dst: string, o: CpOptions): Promise<void> {
  const berth = connect();
  if (dst === '-') {
    const { tar } = await berth.archive.getArchive(ref, src, !!o.followLink);
    for await (const c of tar) if (!process.stdout.write(c)) await new Promise((r) => process.stdout.once('drain', r));
    return;
  }
  // The host destination, a link to a directory followed as docker does.
  let dstStat = fs.lstatSync(dst, { throwIfNoEntry: false });
  if (dstStat?.isSymbolicLink()) dstStat = fs.statSync(dst, { throwIfNoEntry: false }) ?? dstStat;
  if (!dstStat) {
    const parent = path.dirname(path.resolve(dst));
    if (!fs.existsSync(parent)) throw new CopyError(`no such directory: ${parent}`);
  }
  const { stat, tar } = await berth.archive.getArchive(ref, src, !!o.followLink);
  const srcIsDir = stat.kind === 'dir';
  const contents = contentsOf(src) && srcIsDir;
  let destDir: string;
  let rename: (name: string) => string | undefined;
  const rest = (name: string) => name.split('/').slice(1).join('/');
  if (dstStat?.isDirectory()) {
    destDir = dst;
    rename = contents ? (n) => (rest(n) ? rest(n) : undefined) : (n) => n;
  } else if (dstStat && srcIsDir) {
    throw new CopyError(`cannot copy directory ${ref}:${src} to the file ${dst}`);
  } else if (!dstStat && !srcIsDir && assertsDir(dst)) {
    throw new CopyError(`no such directory: ${dst}`);
  } else {
    // A new path (or a file replacing a file): the copy takes the destination's name.
    destDir = path.dirname(path.resolve(dst));
    const base = path.basename(path.resolve(dst));
    rename = (n) => [base, rest(n)].filter(Boolean).join('/');
  }
  const bytes = await extractToHost(tar, destDir, rename);
  report(bytes, dst, o);
}

/** The container path's stat, a link followed once as docker does; undefined when it does not exist. */
async function destStat(ref: string, dst: string): Promise<{ path: string; stat?: PathStat }> {
  const berth = connect();
  const { NotFoundError } = require('@berth/client') as typeof import('@berth/client');
  const look = async (p: string) => berth.archive.statPath(ref, p).catch((e: unknown) => {
    if (e instanceof NotFoundError && /Could not find the file/.test((e as Error).message)) return undefined;
    throw e;
  });
  let stat = await look(dst);
  let p = dst;
  if (stat?.kind === 'symlink') {
    p = stat.linkTarget.startsWith('/') ? stat.linkTarget : path.posix.join(path.posix.dirname(dst), stat.linkTarget);
    stat = await look(p);
  }
  return { path: p, ...(stat ? { stat } : {}) };
}

async function toContainer(src: string, ref: string, dst: string, o: CpOptions): Promise<void> {
  const berth = connect();
  const d = await destStat(ref, dst);
  if (src === '-') {
    if (!d.stat?.isDir) throw new CopyError(`destination "${ref}:${dst}" must be a directory`);
    await berth.archive.putArchive(ref, d.path, process.stdin as AsyncIterable<Buffer>, { copyUidGid: !!o.archive, noOverwriteDirNonDir: true });
    return;
  }
  const srcStat = (o.followLink ? fs.statSync : fs.lstatSync)(src, { throwIfNoEntry: false });
  if (!srcStat) throw new CopyError(`could not find the file ${src} on the host: no such file or directory`);
  const srcIsDir = srcStat.isDirectory();
  const contents = contentsOf(src) && srcIsDir;
  const srcBase = path.basename(path.resolve(src));
  let putAt: string;
  let topName: string;
  if (d.stat?.isDir) {
    putAt = d.path;
    topName = srcBase;
  } else if (d.stat && srcIsDir) {
    throw new CopyError(`cannot copy directory ${src} to ${ref}:${dst}: it is not a directory`);
  } else if (!d.stat && !srcIsDir && assertsDir(dst)) {
    throw new CopyError(`no such directory: ${ref}:${dst}`);
  } else {
    putAt = path.posix.dirname(path.posix.resolve('/', d.path.replace(/\/+$/, '')));
    topName = path.posix.basename(d.path.replace(/\/+$/, ''));
  }
  let bytes = 0;
  const counted = async function* (it: AsyncIterable<Buffer>) {
    for await (const c of it) {
      bytes += c.length;
      yield c;
    }
  };
  await berth.archive.putArchive(ref, putAt, counted(packHostPath(src, topName, contents && !!d.stat?.isDir, !!o.followLink)), { copyUidGid: !!o.archive, noOverwriteDirNonDir: true });
  report(bytes, `${ref}:${dst}`, o);
}

export async function cp(src: string, dst: string, o: CpOptions = {}): Promise<number> {
  const a = split(src);
  const b = split(dst);
  if (a.ctr && b.ctr) throw new CopyError('copying between containers is not supported');
  if (!a.ctr && !b.ctr) throw new CopyError('must specify at least one container source');
  if (a.ctr && !a.p) throw new CopyError('source path must not be empty');
  if (b.ctr && !b.p) throw new CopyError('destination path must not be empty');
  try {
    if (a.ctr) await fromContainer(a.ctr, a.p, b.p, o);
    else await toContainer(a.p, b.ctr!, b.p, o);
  } catch (err) {
    if (err instanceof CliError) throw err;
    // The service's refusal, with docker cp's exit code.
    throw new CopyError((err as Error).message);
  }
  return 0;
}
