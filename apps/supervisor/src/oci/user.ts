// The process's user and groups: "uid[:gid]" or "name[:group]" looked up in the image's /etc/passwd and
// /etc/group as Docker does, plus --group-add. The files are read INSIDE the rootfs: an image whose
// /etc/passwd is a link to "/etc/shadow" or "../../.." reads its own files, never the host's.
import * as fs from 'node:fs';
import { InvalidConfigError } from '../errors';
import { resolveInRoot } from './in-root';
import type { ResolvedUser } from './spec';

/** Resolves the user (empty means root) and the extra groups against the rootfs. */
export function resolveUser(user: string, rootfs: string, groupAdd: string[] = []): ResolvedUser {
  const passwd = readDb(rootfs, '/etc/passwd');
  const groups = readDb(rootfs, '/etc/group');
  const extra = groupAdd.map((g) => {
    if (/^\d+$/.test(g)) return Number(g);
    const row = groups.find((r) => r[0] === g);
    if (!row) throw new InvalidConfigError(`unable to find group ${g} (--group-add): no matching entries in group file`);
    return Number(row[2]);
  });
  const base = primary(user, passwd, groups);
  return { ...base, additionalGids: [...new Set([...base.additionalGids, ...extra])] };
}

function primary(user: string, passwd: string[][], groups: string[][]): ResolvedUser {
  if (!user) return { uid: 0, gid: 0, additionalGids: [] };
  const [u, g] = user.split(':', 2) as [string, string | undefined];
  let uid: number;
  let gid: number | undefined;
  let userName: string | undefined;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const row = passwd.find((r) => r[2] === u);
    if (row) {
      gid = Number(row[3]);
      userName = row[0];
    }
  } else {
    const row = passwd.find((r) => r[0] === u);
    if (!row) throw new InvalidConfigError(`unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
    userName = u;
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = groups.find((r) => r[0] === g);
      if (!row) throw new InvalidConfigError(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  const additionalGids = userName
    ? groups.filter((r) => (r[3] ?? '').split(',').includes(userName!)).map((r) => Number(r[2])).filter((n) => n !== gid)
    : [];
  return { uid, gid: gid ?? 0, additionalGids };
}

/** The rows of a colon-separated database file of the image; none when it is missing or not a file. */
function readDb(rootfs: string, file: string): string[][] {
  const host = resolveInRoot(rootfs, file);
  if (!host) return [];
  try {
    // O_NOFOLLOW: a running container (exec) swapping the file for a link after the lookup gets nothing.
    const fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    let text: string;
    try {
      if (!fs.fstatSync(fd).isFile()) return [];
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
    return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}
