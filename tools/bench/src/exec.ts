// Running peer commands (podman, docker, berth's CLI) for the benchmarks.
import { execFile, spawnSync } from 'node:child_process';

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Buffer } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (opts.input) child.stdin!.end(opts.input);
  });
}

export function available(cmd: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

/** podman as root on this kind of host: rlimits within the host's hard limits (its defaults fail here). */
export const PODMAN_RUN_FLAGS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

/** True when a Docker engine answers (the client alone is not enough). */
export function dockerEngineRunning(): boolean {
  return available('docker', ['info', '--format', '{{.ServerVersion}}']);
}
