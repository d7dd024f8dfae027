// export [-o FILE] CONTAINER: the container's filesystem as a tar (docker export), read by the supervisor
// from its rootfs (volume contents left out), running or stopped. A tar is never written to a terminal;
// with -o it goes to a temp file beside FILE that is renamed when complete, so a failure leaves no half tar.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from '../cli-error';
import { connect } from '../context';

export async function exportContainer(ref: string, o: { output?: string } = {}): Promise<number> {
  const berth = connect();
  if (!o.output) {
    if (process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    try {
      for await (const c of berth.archive.export(ref)) if (!process.stdout.write(c)) await new Promise((r) => process.stdout.once('drain', r));
    } catch (err) {
      throw new CliError((err as Error).message, 1);
    }
    return 0;
  }
  const target = path.resolve(o.output);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw new CliError(`failed to export container: ${(err as Error).message}`, 1);
  }
  try {
    for await (const c of berth.archive.export(ref)) {
      let off = 0;
      while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
    fs.rmSync(tmp, { force: true });
    throw new CliError((err as Error).message, 1);
  }
  return 0;
}
