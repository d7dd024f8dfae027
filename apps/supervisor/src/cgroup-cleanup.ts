// Removal of a container's leftover cgroup directories at Delete. Re-exported by container-manager.ts.
import * as fs from 'node:fs';

/** crun removes the container's cgroups on delete; this catches what a crash left behind. */
export function removeCgroups(id: string): void {
  const roots = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];
  for (const root of roots) {
    let ctrls: string[];
    try {
      ctrls = root.endsWith('unified') ? [''] : fs.readdirSync(root);
    } catch {
      continue;
    }
    for (const c of ctrls) {
      const dir = `${root}${c ? '/' + c : ''}/berth/${id}`;
      try {
        fs.rmdirSync(dir);
      } catch {
        // absent or busy: nothing to do
      }
    }
  }
}
