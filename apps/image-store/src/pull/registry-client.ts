// A small OCI distribution (HTTP API v2) client on Node's fetch: manifests and blobs of one repository, both
// directions (pull: GET; push: HEAD, POST/PUT uploads, cross-repository mount, manifest PUT), with
// bearer-token (WWW-Authenticate) and basic auth. Plain HTTP only for registries marked insecure.
import { isDigest, type ImageReference } from '@berth/oci';
import { JsonTooLargeError } from '../errors';
import { InsecureRegistryError, RegistryAuthError, RegistryDeniedError, RegistryError, RegistryRejectedError, RegistryUnreachableError, RemoteNotFoundError } from '../errors';
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
  /** Push: ask the token service for `pull,push` on the repository (and `pull` on mount sources). */
  push?: boolean;
  /** Repositories of the same registry blobs may be mounted from (their pull scope is requested too). */
  mountFrom?: string[];
}

/** A request body that can be made again: a 401 answered by new credentials replays the request. */
export type BodySource = () => Buffer | AsyncIterable<Uint8Array>;

interface RequestInit2 {
  headers?: Record<string, string>;
  method?: string;
  body?: BodySource;
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

  private async fetch(url: string, init: RequestInit2 = {}, retried = false): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.auth) headers.authorization = this.auth;
    let res: Response;
    try {
      const body = init.body?.();
      const streamed = body !== undefined && !Buffer.isBuffer(body);
      res = await fetch(url, {
        method: init.method ?? 'GET',
        headers,
        redirect: 'follow',
        signal: this.opts.signal ?? null,
        ...(body === undefined ? {} : { body: body as unknown as NonNullable<Parameters<typeof fetch>[1]>['body'] }),
        // A streamed body needs half duplex (undici); Content-Length is set by the caller.
        ...(streamed ? ({ duplex: 'half' } as object) : {}),
      });
    } catch (err) {
      if (this.opts.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      // A plain HTTP server answering a TLS hello: EPROTO, or OpenSSL's ERR_SSL_WRONG_VERSION_NUMBER.
      if (url.startsWith('https:') && (cause?.code === 'EPROTO' || /^ERR_SSL_/.test(cause?.code ?? ''))) {
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
      const Refusal = res.status === 401 ? RegistryAuthError : RegistryDeniedError;
      throw new Refusal(`registry ${this.ref.domain} refused access to ${this.ref.path} (HTTP ${res.status})`);
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
    if (this.opts.push) {
      // The challenge names the scope of the request that failed; a push needs both actions for the
      // whole session (and pull on the repositories it mounts from), as docker asks.
      url.searchParams.append('scope', `repository:${this.ref.path}:pull,push`);
      for (const from of this.opts.mountFrom ?? []) if (from !== this.ref.path) url.searchParams.append('scope', `repository:${from}:pull`);
    } else url.searchParams.set('scope', params.scope ?? `repository:${this.ref.path}:pull`);
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

  // ---- push -----------------------------------------------------------------------------------------

  /** Whether the repository has the blob (HEAD), so a push does not send it again. */
  async hasBlob(digest: string): Promise<boolean> {
    if (!isDigest(digest)) throw new RegistryError(`"${digest}" is not a digest`);
    const res = await this.fetch(`${this.base}/blobs/${digest}`, { method: 'HEAD' });
    await res.body?.cancel();
    if (res.status === 404) return false;
    if (res.ok) return true;
    throw new RegistryError(`registry ${this.ref.domain} answered HTTP ${res.status} to HEAD blob ${digest}`);
  }

  /**
   * Starts an upload (POST /blobs/uploads/). With `mount`, asks the registry to link the blob from another
   * repository first: `mounted` when it did (201), else the upload it opened instead (202).
   */
  async startUpload(mount?: { digest: string; from: string }): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const res = await this.fetch(`${this.base}/blobs/uploads/${query}`, { method: 'POST', headers: { 'content-length': '0' } });
    if (mount && res.status === 201) {
      await res.body?.cancel();
      return { mounted: true };
    }
    if (res.status !== 202) throw await this.refusal(res, 'blob upload start');
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (!location) throw new RegistryError(`registry ${this.ref.domain} opened an upload without a Location`);
    return { mounted: false, location: new URL(location, this.base).toString() };
  }

  /** Sends a whole blob to an opened upload and completes it (PUT <location>?digest=). */
  async putBlob(location: string, digest: string, size: number, body: BodySource): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.fetch(url.toString(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
    });
    if (res.status !== 201 && res.status !== 204) throw await this.refusal(res, `blob ${digest}`);
    await res.body?.cancel();
    const got = res.headers.get('docker-content-digest');
    if (got && got !== digest) throw new RegistryError(`registry ${this.ref.domain} stored blob ${digest} as ${got}`);
  }

  /** PUT of a manifest with its media type; returns the digest the registry answered with. */
  async putManifest(reference: string, mediaType: string, data: Buffer): Promise<string | undefined> {
    const res = await this.fetch(`${this.base}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: () => data });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await this.refusal(res, `manifest ${reference}`);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  /** An error for a refused push request, with the registry's own error message (its JSON `errors`). */
  private async refusal(res: Response, what: string): Promise<Error> {
    let detail = '';
    try {
      const text = (await res.text()).slice(0, 4096);
      const body = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
      detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      // not JSON: the status says enough
    }
    const msg = `registry ${this.ref.domain} refused ${what} of ${this.ref.path} (HTTP ${res.status}${detail ? `: ${detail}` : ''})`;
    if (res.status === 404) return new RemoteNotFoundError(msg);
    if (res.status >= 400 && res.status < 500) return new RegistryRejectedError(msg);
    return new RegistryError(msg);
  }
}
