// What a start cut short by a crash of this process can leave behind. conmon was launched ahead and waited on
// its start pipe; when the supervisor died, conmon read EOF and went on, and if the bundle's config.json was
// already written it created the container and now watches it. Its exit report (the exit file, named after the
// container id) would later end the retried start's container, so it goes first, then its runtime container.
import * as fs from 'node:fs';
import type { ContainerPaths } from './layout';
import { readPidFile } from './runtime/conmon';
import type { OciRuntime } from './runtime/oci-runtime';

/** True when pid is the conmon of this container (a pid file can outlive its process and the pid be reused). */
function isConmonOf(pid: number, id: string): boolean {
  try {
    if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'conmon') return false;
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const c = args.indexOf('-c');
    return c >= 0 && args[c + 1] === id;
  } catch {
    return false;
  }
}

async function gone(pid: number, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isConmonOf(pid, id)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** Stops a conmon left by a cut start and deletes the runtime container it made; nothing to do otherwise. */
export async function clearCutStart(p: ContainerPaths, runtime: OciRuntime, id: string): Promise<void> {
  const pid = readPidFile(p.conmonPidFile);
  if (pid && isConmonOf(pid, id)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
    await gone(pid, id, 2000);
  }
  if (fs.existsSync(`${runtime.root}/${id}`)) await runtime.delete(id, true);
}
