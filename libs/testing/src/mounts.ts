// Mounts berth.types.v1.Mount specs for real (as the supervisor will), for tests, and undoes them.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export interface MountLike {
  type: string;
  source: string;
  target: string;
  options: string[];
}

function sh(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

/** Mounts each spec at target/spec.target, in order. Bind specs honour "ro" by a read-only remount. */
export function mountSpecs(mounts: MountLike[], target: string): void {
  for (const m of mounts) {
    const dest = path.join(target, m.target);
    if (m.type === 'bind') {
      sh('mount', [m.options.includes('rbind') ? '--rbind' : '--bind', m.source, dest]);
      if (m.options.includes('ro')) sh('mount', ['-o', 'remount,bind,ro', dest]);
    } else {
      sh('mount', ['-t', m.type, '-o', m.options.join(','), m.source, dest]);
    }
  }
}

/** Unmounts target and everything below it. */
export function unmountAll(target: string): void {
  sh('umount', ['-R', target]);
}
