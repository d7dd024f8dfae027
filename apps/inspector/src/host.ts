// What the inspector reads from the host itself: the container's cgroups (v1 hierarchies, the supervisor's
// cgroupsPath /berth/<id>), /proc for processes and pid namespaces, and mountinfo for the merged rootfs.
import * as fs from 'node:fs';

export const CGROUP_ROOT = process.env.BERTH_INSPECTOR_CGROUP_ROOT ?? '/sys/fs/cgroup';
/** The supervisor's cgroupsPath is /berth/<id>: one directory per controller. */
export const CGROUP_PARENT = 'berth';

export function cgroupDir(controller: string, id: string): string {
  return `${CGROUP_ROOT}/${controller}/${CGROUP_PARENT}/${id}`;
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readNumber(file: string): number | undefined {
  const t = readText(file);
  if (t === undefined) return undefined;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** PIDs (host view) of every process in the container: its pids cgroup, else PID 1 and its descendants. */
export function containerPids(id: string, initPid: number): number[] {
  const procs = readText(`${cgroupDir('pids', id)}/cgroup.procs`) ?? readText(`${cgroupDir('memory', id)}/cgroup.procs`);
  if (procs !== undefined) {
    const pids = procs.split('\n').filter(Boolean).map(Number);
    if (pids.length) return pids;
  }
  return initPid > 0 ? descendantsOf(initPid) : [];
}

/** pid and every process below it, from /proc/<pid>/stat's parent field. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  if (!fs.existsSync(`/proc/${pid}`)) return [];
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** The PID inside the innermost pid namespace (the last NSpid entry), 0 when the process is gone. */
export function namespacePid(pid: number): number {
  const status = readText(`/proc/${pid}/status`);
  const line = status?.split('\n').find((l) => l.startsWith('NSpid:'));
  const last = line?.trim().split(/\s+/).at(-1);
  return last ? Number(last) : 0;
}

/** Decodes mountinfo's octal escapes ("\040" is a space). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Where an overlay with this upper dir is mounted now, from /proc/self/mountinfo; '' when it is not. */
export function overlayMountPoint(upperDir: string, mountinfo = readText('/proc/self/mountinfo') ?? ''): string {
  if (!upperDir) return '';
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'overlay' || !superOpts) continue;
    if (superOpts.split(',').some((o) => unescapeMount(o) === `upperdir=${upperDir}`)) return unescapeMount(line.slice(0, sep).split(' ')[4]!);
  }
  return '';
}
