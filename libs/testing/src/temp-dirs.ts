import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A temporary berth state root and a short runtime dir (unix socket paths must stay under 108 bytes).
 * `cleanup` removes both.
 */
export function tempBerthDirs(prefix = 'berth-test-'): { root: string; runDir: string; cleanup(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const runDir = fs.mkdtempSync('/tmp/br-');
  return {
    root,
    runDir,
    cleanup: () => {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}
