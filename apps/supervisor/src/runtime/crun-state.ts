// Two crun calls done in-process, because each crun process costs 5-50 ms (more under load) on the path of
// every container, and for the common case the command does little:
// - `crun start` of a created container writes one byte to <root>/<id>/exec.fifo, which the container's
//   init waits on, and unlinks the fifo (then it runs poststart hooks, which berth never sets);
// - `crun delete` of a stopped container removes its cgroups and its state directory <root>/<id>.
// Each says whether it did all of it; anything unusual (no fifo, hooks, the process still there, a busy
// cgroup) is left to the runtime's own command. runc keeps other state and always gets its command.
import * as fs from 'node:fs';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The container's cgroup directories that exist: one per v1 hierarchy and the unified one. */
export function containerCgroupDirs(cgroupPath: string, root = CGROUP_ROOT): string[] {
  const rel = cgroupPath.replace(/^\/+/, '');
  const dirs: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return dirs;
  }
  const seen = new Set<string>();
  for (const c of entries) {
    const dir = `${root}/${c}/${rel}`;
    let real: string;
    try {
      // cpu and cpuacct are links to one "cpu,cpuacct" hierarchy: count it once.
      real = fs.realpathSync(dir);
    } catch {
      continue;
    }
    if (!seen.has(real)) {
      seen.add(real);
      dirs.push(real);
    }
  }
  return dirs;
}

/** Removes the cgroup directories; returns those that could not go (still busy). */
export function removeCgroupDirs(dirs: string[]): string[] {
  const left: string[] = [];
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
    }
  }
  return left;
}

/** True while `pid` is the process crun recorded (same start time), not a zombie and not a reused pid. */
function isRecordedProcessAlive(pid: number, startTime: number | undefined): boolean {
  if (!pid) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Fields after the command name (which may hold spaces and parentheses): state is the 3rd field, start
  // time the 22nd.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return false;
  return startTime === undefined || Number(rest[19]) === startTime;
}

/**
 * Deletes a stopped crun container from its state under `runtimeRoot`. Returns false (changing nothing the
 * runtime's delete would need) when that delete must do it instead.
 */
export function deleteStoppedCrunContainer(runtimeRoot: string, id: string, cgroupRoot = CGROUP_ROOT): boolean {
  const stateDir = `${runtimeRoot}/${id}`;
  let status: { pid?: number; 'process-start-time'?: number; 'cgroup-path'?: string; 'systemd-cgroup'?: boolean };
  let config: { hooks?: { poststop?: unknown[] } };
  try {
    status = JSON.parse(fs.readFileSync(`${stateDir}/status`, 'utf8')) as typeof status;
    config = JSON.parse(fs.readFileSync(`${stateDir}/config.json`, 'utf8')) as typeof config;
  } catch (err) {
    // No state at all: nothing to delete. Unreadable state: the runtime decides.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(stateDir);
  }
  if (status['systemd-cgroup'] || (config.hooks?.poststop?.length ?? 0) > 0) return false;
  if (isRecordedProcessAlive(status.pid ?? 0, status['process-start-time'])) return false;
  if (status['cgroup-path']) {
    const left = removeCgroupDirs(containerCgroupDirs(status['cgroup-path'], cgroupRoot));
    if (left.length > 0) return false;
  }
  fs.rmSync(stateDir, { recursive: true, force: true });
  return true;
}

/**
 * Starts a created crun container: the byte on exec.fifo that `crun start` writes. Returns false, having
 * changed nothing, when `crun start` must do it (no fifo, no reader, hooks to run).
 */
export function startCreatedCrunContainer(runtimeRoot: string, id: string): boolean {
  const stateDir = `${runtimeRoot}/${id}`;
  const fifo = `${stateDir}/exec.fifo`;
  try {
    const config = JSON.parse(fs.readFileSync(`${stateDir}/config.json`, 'utf8')) as { hooks?: { poststart?: unknown[] } };
    if ((config.hooks?.poststart?.length ?? 0) > 0 || !fs.statSync(fifo).isFIFO()) return false;
  } catch {
    return false;
  }
  let fd: number;
  try {
    // Non-blocking: without a reader (the init died) this fails with ENXIO instead of hanging.
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    fs.unlinkSync(fifo);
    fs.writeSync(fd, Buffer.from([0]));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
