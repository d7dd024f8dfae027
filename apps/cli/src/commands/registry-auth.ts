// login, logout, push: the registry side of images. Credentials live docker-style in
// $BERTH_CONFIG/config.json (libs/client registry-auth); pull and push send the stored ones for the
// registry they talk to. Failures exit 1, as docker's do for these verbs.
import type { imagesV1 } from '@berth/api';
import { CliError, UsageError } from '../cli-error';
import { connect, err, out } from '../context';
import { humanSize, shortId } from '../format/table';

const EXIT_FAILED = 1;

type ClientModule = typeof import('@berth/client');
const client = () => require('@berth/client') as ClientModule;

/** The registry host of a reference ("127.0.0.1:5000/app:1" → "127.0.0.1:5000"); docker.io otherwise. */
export function registryOf(reference: string): string {
  const { parseReference } = require('@berth/oci') as typeof import('@berth/oci');
  try {
    return parseReference(reference).domain;
  } catch {
    return 'docker.io';
  }
}

/** The stored credentials for the registry a reference names, as pull/push options. */
export function credentialsFor(reference: string): { username?: string; password?: string } {
  const c = client().storedCredentials(registryOf(reference));
  return c ? { username: c.username, password: c.password } : {};
}

function insecureList(reference: string, flags: string[]): string[] {
  return (require('../parse/registries') as typeof import('../parse/registries')).insecureRegistries(reference, flags);
}

/** Reads stdin to its end (for --password-stdin), without the final newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Typed ahead of a prompt (one read may carry both the user name and the password). */
let typedAhead = '';

/** One line typed on the terminal; not echoed when `secret`. */
function promptLine(question: string, secret: boolean): Promise<string> {
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let text = '';
    if (secret) stdin.setRawMode(true);
    const finish = (value: string | Error) => {
      stdin.off('data', onData);
      if (secret) {
        stdin.setRawMode(false);
        process.stderr.write('\n');
      }
      stdin.pause();
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const take = (chars: string): boolean => {
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        if (ch === '\r' || ch === '\n') {
          typedAhead = chars.slice(i + (ch === '\r' && chars[i + 1] === '\n' ? 2 : 1));
          finish(text);
          return true;
        }
        if (ch === '\u0003') {
          finish(new CliError('login cancelled', EXIT_FAILED));
          return true;
        }
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
      return false;
    };
    const onData = (b: Buffer) => void take(b.toString('utf8'));
    const ahead = typedAhead;
    typedAhead = '';
    if (take(ahead)) return;
    stdin.on('data', onData);
    stdin.resume();
  });
}

export async function login(server: string | undefined, f: { username?: string; password?: string; passwordStdin?: boolean; insecureRegistry?: string[]; insecure?: string[] }): Promise<number> {
  const c = client();
  const key = c.serverKey(server);
  let password = f.password;
  if (password !== undefined && f.passwordStdin) throw new UsageError('--password and --password-stdin are mutually exclusive', EXIT_FAILED);
  if (f.passwordStdin) {
    if (!f.username) throw new UsageError('Must provide --username with --password-stdin', EXIT_FAILED);
    password = await readStdin();
  } else if (password !== undefined) {
    err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  }
  const insecureRegistries = insecureList(`${key === c.DOCKER_HUB_SERVER ? 'docker.io' : key}/x`, [...(f.insecureRegistry ?? []), ...(f.insecure ?? [])]);
  // No flags: the stored credentials are tried first, as docker does; prompting only if they fail.
  if (f.username === undefined && password === undefined) {
    const stored = c.storedCredentials(key);
    if (stored) {
      out(`Authenticating with existing credentials... [Username: ${stored.username}]`);
      try {
        await c.checkLogin(key, stored, { insecureRegistries });
        out('Login Succeeded');
        return 0;
      } catch (e) {
        err(`Login did not succeed, error: ${(e as Error).message}`);
      }
    }
  }
  let username = f.username;
  if (username === undefined || password === undefined) {
    if (!process.stdin.isTTY) throw new CliError('Cannot perform an interactive login from a non TTY device', EXIT_FAILED);
    username ??= (await promptLine('Username: ', false)).trim();
    password ??= await promptLine('Password: ', true);
  }
  if (!username) throw new UsageError('Username is required', EXIT_FAILED);
  if (!password) throw new UsageError('Password is required', EXIT_FAILED);
  try {
    await c.checkLogin(key, { username, password }, { insecureRegistries });
    c.storeCredentials(key, { username, password });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_FAILED);
  }
  out('Login Succeeded');
  return 0;
}

export async function logout(server: string | undefined): Promise<number> {
  const c = client();
  const key = c.serverKey(server);
  let removed: boolean;
  try {
    removed = c.removeCredentials(key);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_FAILED);
  }
  out(removed ? `Removing login credentials for ${key}` : `Not logged in to ${key}`);
  return 0;
}

/** "127.0.0.1:5000/app:1" → "127.0.0.1:5000/app"; an id stays as typed. */
function repositoryName(reference: string): string {
  const { parseReference } = require('@berth/oci') as typeof import('@berth/oci');
  try {
    const r = parseReference(reference);
    return `${r.domain}/${r.path}`;
  } catch {
    return reference;
  }
}

function blobLine(b: imagesV1.PushBlobProgress): string {
  const id = shortId(b.digest);
  if (b.status === 'exists') return `${id}: Layer already exists`;
  if (b.status === 'mounted') return `${id}: Mounted from ${b.mountedFrom}`;
  if (b.status === 'pushed') return `${id}: Pushed`;
  return `${id}: Pushing  ${humanSize(b.offset)}/${humanSize(b.total)}`;
}

export async function push(reference: string, f: { insecureRegistry?: string[]; insecure?: string[]; quiet?: boolean }): Promise<number> {
  const tty = process.stdout.isTTY && !f.quiet;
  // Layers only, top first, as docker lists them; the config is pushed without a line.
  const lines = new Map<string, string>();
  let config = '';
  const render = () => {
    process.stdout.write(`\x1b[${lines.size}A`);
    for (const l of lines.values()) process.stdout.write(`\x1b[2K${l}\n`);
  };
  let done: imagesV1.PushDone;
  try {
    done = await connect().push(reference, {
      insecureRegistries: insecureList(reference, [...(f.insecureRegistry ?? []), ...(f.insecure ?? [])]),
      ...credentialsFor(reference),
      onProgress: (p) => {
        if (p.event?.$case === 'resolved') {
          const [cfg, ...layers] = p.event.value.blobs;
          config = cfg?.digest ?? '';
          if (!f.quiet) out(`The push refers to repository [${repositoryName(reference)}]`);
          for (const l of [...layers].reverse()) lines.set(l.digest, `${shortId(l.digest)}: Preparing`);
          if (tty) {
            process.stdout.write('\n'.repeat(lines.size));
            render();
          }
        } else if (p.event?.$case === 'blob') {
          const b = p.event.value;
          if (b.digest === config || !lines.has(b.digest)) return;
          lines.set(b.digest, blobLine(b));
          if (tty) render();
          else if (!f.quiet && b.status !== 'uploading') out(blobLine(b));
        }
      },
    });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_FAILED);
  }
  const repoPart = done.reference.replace(/^[^/]*\//, '');
  const tagOrDigest = repoPart.includes('@') ? done.digest : (/:([\w][\w.-]*)$/.exec(repoPart)?.[1] ?? done.digest);
  out(`${tagOrDigest}: digest: ${done.digest} size: ${done.size}`);
  return 0;
}
