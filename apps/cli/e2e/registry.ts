// A local registry for pull tests: Debian's docker-registry on 127.0.0.1 (filesystem storage in a temp dir),
// images pushed from a docker-archive with skopeo.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from '@berth/testing';

export interface LocalRegistry {
  host: string;
  push(dockerArchive: string, name: string): void;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<LocalRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`, 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'));
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitForPort(port);
  } catch (err) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start: ${(err as Error).message}\n${stderr}`);
  }
  const host = `127.0.0.1:${port}`;
  return {
    host,
    push: (file, name) => {
      execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', `docker-archive:${file}`, `docker://${host}/${name}`]);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
