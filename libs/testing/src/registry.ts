// A real registry for pull/push tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 with
// filesystem storage in a temp dir, optionally behind htpasswd basic auth, its access log kept so a test
// can count the requests a client made. Images go in with skopeo from any source it reads.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from './free-port';

export interface LocalRegistryOptions {
  /** Demand basic auth with this user (htpasswd -B, as docker's registry image documents). */
  auth?: { user: string; password: string };
}

export interface LocalRegistry {
  host: string;
  /** The registry's storage root (docker/registry/v2/...). */
  dataDir: string;
  /** Requests served so far, "METHOD /path?query STATUS", from the registry's access log. */
  requests(): string[];
  /** skopeo copy from a transport reference ("oci-archive:/x.tar", "docker-archive:/x.tar") to `name`. */
  copyIn(source: string, name: string, flags?: string[]): void;
  stop(): Promise<void>;
}

export async function startLocalRegistry(opts: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  const lines = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: false', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`, 'http:', `  addr: 127.0.0.1:${port}`];
  if (opts.auth) {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', opts.auth.user, opts.auth.password]).toString();
    fs.writeFileSync(path.join(dir, 'htpasswd'), htpasswd, { mode: 0o600 });
    lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${dir}/htpasswd`);
  }
  fs.writeFileSync(config, lines.join('\n') + '\n');
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let pending = '';
  const log: string[] = [];
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  // Access log lines: 127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "" "agent"
  child.stdout!.on('data', (d: Buffer) => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const l of parts) {
      const m = /"(\w+) (\S+) HTTP\/[\d.]+" (\d+)/.exec(l);
      if (m) log.push(`${m[1]} ${m[2]} ${m[3]}`);
    }
  });
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
    dataDir: path.join(dir, 'data'),
    requests: () => [...log],
    copyIn: (source, name, flags = []) => {
      const creds = opts.auth ? ['--dest-creds', `${opts.auth.user}:${opts.auth.password}`] : [];
      execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', ...flags, ...creds, '--dest-tls-verify=false', source, `docker://${host}/${name}`]);
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
