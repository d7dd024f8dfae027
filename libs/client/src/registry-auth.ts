// Registry credentials as docker keeps them: `{"auths": {"SERVER": {"auth": base64(user:pass)}}}` in
// `$BERTH_CONFIG/config.json` (default `~/.config/berth/config.json`), the file 0600 in a 0700 directory,
// written whole to a temp file and renamed over, so a crash never leaves half a file. Other keys of the file
// are kept. `checkLogin` verifies credentials the way `docker login` does: GET /v2/ with them (through the
// registry's token service when it answers with a Bearer challenge).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BerthClientError } from './errors';

/** The key docker uses for Docker Hub. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

export class LoginFailedError extends BerthClientError {}
export class RegistryConfigError extends BerthClientError {}

export interface Credentials {
  username: string;
  password: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

/** Where the credentials live. */
export function registryConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.BERTH_CONFIG || path.join(env.HOME || os.homedir(), '.config', 'berth');
  return path.join(dir, 'config.json');
}

/**
 * The key a server is stored under: Docker Hub's names map to docker's key; anything else to its
 * host[:port] (a scheme and path are dropped, as docker's ConvertToHostname does).
 */
export function serverKey(server: string | undefined): string {
  const s = (server ?? '').trim();
  if (!s || s === DOCKER_HUB_SERVER) return DOCKER_HUB_SERVER;
  const host = s.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host)) return DOCKER_HUB_SERVER;
  return host;
}

function readConfig(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RegistryConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!text.trim()) return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as ConfigFile;
  } catch (err) {
    throw new RegistryConfigError(`${file} is not a valid config file: ${(err as Error).message}`);
  }
}

function writeConfig(file: string, doc: ConfigFile): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.config.json.tmp-${process.pid}-${Date.now()}`);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(doc, null, '\t') + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new RegistryConfigError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

/** The stored credentials for a registry host (a reference's domain, e.g. "127.0.0.1:5000"), if any. */
export function storedCredentials(domain: string, file = registryConfigPath()): Credentials | undefined {
  const auths = readConfig(file).auths ?? {};
  const want = serverKey(domain);
  const entry = auths[want] ?? Object.entries(auths).find(([k]) => serverKey(k) === want)?.[1];
  if (!entry?.auth) return undefined;
  const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  if (colon < 0) throw new RegistryConfigError(`${file}: the auth of ${want} is not base64("user:password")`);
  return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
}

/** Stores (or replaces) the credentials of a server. */
export function storeCredentials(server: string, creds: Credentials, file = registryConfigPath()): void {
  const doc = readConfig(file);
  const auths = { ...(doc.auths ?? {}) };
  auths[serverKey(server)] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  writeConfig(file, { ...doc, auths });
}

/** Removes a server's credentials; false when there were none. */
export function removeCredentials(server: string, file = registryConfigPath()): boolean {
  const doc = readConfig(file);
  const key = serverKey(server);
  const auths = { ...(doc.auths ?? {}) };
  const keys = Object.keys(auths).filter((k) => serverKey(k) === key);
  if (!keys.length) return false;
  for (const k of keys) delete auths[k];
  writeConfig(file, { ...doc, auths });
  return true;
}

/** Loopback registries speak plain HTTP without being listed, as docker allows (and the image-store does). */
export function registryIsInsecure(host: string, listed: readonly string[] = []): boolean {
  const bare = host.replace(/:\d+$/, '');
  return listed.includes(host) || listed.includes(bare) || bare === 'localhost' || /^127\./.test(bare) || bare === '[::1]';
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  const params: Record<string, string> = {};
  if (!m) return { scheme: '', params };
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"|(\w+)=([^,\s]*)/g)) params[(p[1] ?? p[3])!.toLowerCase()] = p[2] ?? p[4] ?? '';
  return { scheme: m[1]!.toLowerCase(), params };
}

async function get(url: string, headers: Record<string, string>, what: string): Promise<Response> {
  try {
    return await fetch(url, { headers, redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (url.startsWith('https:') && (cause?.code === 'EPROTO' || /^ERR_SSL_/.test(cause?.code ?? ''))) throw new LoginFailedError(`${what} does not speak HTTPS; mark it insecure to use plain HTTP`);
    throw new LoginFailedError(`cannot reach ${what}: ${cause?.message ?? (err as Error).message}`);
  }
}

/** Verifies credentials against a registry (GET /v2/, through its token service if it has one). */
export async function checkLogin(server: string, creds: Credentials, opts: { insecureRegistries?: string[] } = {}): Promise<void> {
  const key = serverKey(server);
  const host = key === DOCKER_HUB_SERVER ? 'registry-1.docker.io' : key;
  const url = `${registryIsInsecure(host, opts.insecureRegistries) ? 'http' : 'https'}://${host}/v2/`;
  const basic = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  const res = await get(url, { authorization: basic }, `registry ${host}`);
  await res.body?.cancel();
  if (res.ok) return;
  if (res.status !== 401) throw new LoginFailedError(`login to ${host} failed: the registry answered HTTP ${res.status} to GET /v2/`);
  const { scheme, params } = parseChallenge(res.headers.get('www-authenticate') ?? '');
  if (scheme !== 'bearer' || !params.realm) throw new LoginFailedError(`login to ${host} failed: unauthorized: incorrect username or password`);
  const token = new URL(params.realm);
  if (params.service) token.searchParams.set('service', params.service);
  const tr = await get(token.toString(), { authorization: basic }, `token service ${token.origin}`);
  await tr.body?.cancel();
  if (!tr.ok) throw new LoginFailedError(`login to ${host} failed: unauthorized: incorrect username or password (token service HTTP ${tr.status})`);
}
