// A small OCI distribution (HTTP API v2) client on Node's fetch: manifests and blobs of one repository,
// with bearer-token (WWW-Authenticate) and basic auth. Plain HTTP only for registries marked insecure.
import { isDigest, type ImageReference } from '@berth/oci';
import { JsonTooLargeError } from '../errors';
import { InsecureRegistryError, RegistryAuthError, RegistryError, RegistryUnreachableError, RemoteNotFoundError } from '../errors';
import { MAX_JSON_BYTES } from '../images/manifests';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryClientOptions {
  insecureRegistries?: string[];
  username?: string;
  password?: string;
  signal?: AbortSignal;
}

/** Loopback registries may use plain HTTP without being listed, as docker allows. */
export function isInsecure(domain: string, listed: readonly string[] = []): boolean {
  const host = domain.replace(/:\d+$/, '');
  return listed.includes(domain) || listed.includes(host) || host === 'localhost' || /^127\./.test(host) || host === '[::1]';
}

/** Parses `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  const params: Record<string, string> = {};
  if (!m) return { scheme: '', params };
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"|(\w+)=([^,\s]*)/g)) params[(p[1] ?? p[3])!.toLowerCase()] = p[2] ?? p[4] ?? '';
  return { scheme: m[1]!.toLowerCase(), params };
}

export class RegistryClient {
  readonly base: string;
  private auth: string | undefined;

  constructor(
    private readonly ref: ImageReference,
    private readonly opts: RegistryClientOptions = {},
  ) {
    const host = ref.domain === 'docker.io' ? 'registry-1.docker.io' : ref.domain;
    const scheme = isInsecure(ref.domain, opts.insecureRegistries) ? 'http' : 'https';
    this.base = `${scheme}://${host}/v2/${ref.path}`;
  }

  private async fetch(url: string, init: { headers?: Record<string, string>; method?: string } = {}, retried = false): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.auth) headers.authorization = this.auth;
    let res: Response;
    try {
      res = await fetch(url, { method: init.method ?? 'GET', headers, redirect: 'follow', signal: this.opts.signal ?? null });
    } catch (err) {
      if (this.opts.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (url.startsWith('https:') && cause?.code === 'EPROTO') {
        throw new InsecureRegistryError(`${this.ref.domain} does not speak HTTPS; mark it insecure to use plain HTTP`);
      }
      throw new RegistryUnreachableError(`cannot reach registry ${this.ref.domain}: ${cause?.message ?? (err as Error).message}`);
    }
    if (res.status === 401 && !retried) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
      return this.fetch(url, init, true);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryAuthError(`registry ${this.ref.domain} refused access to ${this.ref.path} (HTTP ${res.status})`);
    }
    return res;
  }

  private basic(): string | undefined {
    if (!this.opts.username && !this.opts.password) return undefined;
    return 'Basic ' + Buffer.from(`${this.opts.username ?? ''}:${this.opts.password ?? ''}`).toString('base64');
  }

  private async authenticate(header: string): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      const b = this.basic();
      if (!b) throw new RegistryAuthError(`registry ${this.ref.domain} needs a user name and password`);
      this.auth = b;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new RegistryAuthError(`registry ${this.ref.domain} asks for unsupported authentication "${header}"`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.path}:pull`);
    const headers: Record<string, string> = {};
    const b = this.basic();
    if (b) headers.authorization = b;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: this.opts.signal ?? null });
    } catch (err) {
      throw new RegistryUnreachableError(`cannot reach the token service ${url.origin}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryAuthError(`token service ${url.origin} refused (HTTP ${res.status})`);
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError(`token service ${url.origin} sent no token`);
    this.auth = `Bearer ${token}`;
  }

  /** A manifest or index by tag or digest, read with a size cap. */
  async manifest(reference: string, display: string): Promise<{ mediaType: string; data: Buffer }> {
    const res = await this.fetch(`${this.base}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RemoteNotFoundError(`${display}: not found in registry ${this.ref.domain}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(`registry ${this.ref.domain} answered HTTP ${res.status} for manifest ${display}`);
    }
    const len = Number(res.headers.get('content-length') ?? 0);
    if (len > MAX_JSON_BYTES) {
      await res.body?.cancel();
      throw new JsonTooLargeError(`manifest ${display}`, len, MAX_JSON_BYTES);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += c.length;
      if (size > MAX_JSON_BYTES) throw new JsonTooLargeError(`manifest ${display}`, size, MAX_JSON_BYTES);
      chunks.push(Buffer.from(c));
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    return { mediaType, data: Buffer.concat(chunks) };
  }

  /** A blob's bytes from an offset; `resumed` says whether the registry honoured the range. */
  async blob(digest: string, offset = 0): Promise<{ body: AsyncIterable<Uint8Array>; resumed: boolean }> {
    if (!isDigest(digest)) throw new RegistryError(`"${digest}" is not a digest`);
    const headers: Record<string, string> = {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await this.fetch(`${this.base}/blobs/${digest}`, { headers });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RemoteNotFoundError(`blob ${digest} of ${this.ref.path}: not found in registry ${this.ref.domain}`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new RegistryError(`registry ${this.ref.domain} answered HTTP ${res.status} for blob ${digest}`);
    }
    return { body: res.body as unknown as AsyncIterable<Uint8Array>, resumed: offset > 0 && res.status === 206 };
  }
}
