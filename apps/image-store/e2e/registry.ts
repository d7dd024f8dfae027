// The real registry of libs/testing (Debian's docker-registry on 127.0.0.1), images put in by skopeo from
// OCI archives; and a small front that adds bearer-token auth (as Docker Hub's token service does) or cuts
// one blob download short, proxying everything else to the real registry.
import * as http from 'node:http';
import { freePort, startLocalRegistry, type LocalRegistry, type LocalRegistryOptions } from '@berth/testing';

export interface TestRegistry extends LocalRegistry {
  /** skopeo copy of an OCI archive to the registry; format "v2s2" converts to Docker media types. */
  push(ociArchiveFile: string, name: string, all?: boolean, format?: 'oci' | 'v2s2'): void;
}

/** The shared registry (libs/testing) with this suite's way of putting images in: OCI archives. */
export async function startRegistry(opts: LocalRegistryOptions = {}): Promise<TestRegistry> {
  const reg = await startLocalRegistry(opts);
  return {
    ...reg,
    push: (file, name, all = false, format) => reg.copyIn(`oci-archive:${file}`, name, [...(all ? ['--all'] : []), ...(format ? ['--format', format] : [])]),
  };
}

export interface RegistryFront {
  host: string;
  /** Requests seen, "METHOD path [range]". */
  log: string[];
  /** Cut the next download of this blob after this many bytes. */
  cutNext(digest: string, afterBytes: number): void;
  /** Flip one byte of the next download of this blob. */
  corruptNext(digest: string): void;
  /** Send the headers of the next download of this blob, then nothing until the client goes away. */
  stallNext(digest: string): void;
  /** Hold the next blob upload (PUT) unanswered: `held` once it arrived, `closed` once the client gave it up. */
  stallNextUpload(): { held: Promise<void>; closed: Promise<void> };
  stop(): Promise<void>;
}

/**
 * A front for the registry that demands auth: "bearer" = a token from its /token endpoint (got with basic
 * user:pass), as Docker Hub's token service does; "basic" = user:pass on every request.
 */
export async function startFront(upstream: string, opts: { user: string; password: string; scheme?: 'bearer' | 'basic' }): Promise<RegistryFront> {
  const scheme = opts.scheme ?? 'bearer';
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const token = 'tok-' + Math.random().toString(36).slice(2);
  const log: string[] = [];
  const cuts = new Map<string, number>();
  const corrupt = new Set<string>();
  const stall = new Set<string>();
  let stallUpload: { held: () => void; closed: () => void } | undefined;
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    if (stallUpload && req.method === 'PUT' && /\/blobs\/uploads\//.test(req.url!) && req.headers.authorization) {
      const { held, closed } = stallUpload;
      stallUpload = undefined;
      req.resume();
      res.once('close', closed);
      held();
      return;
    }
    if (req.url!.startsWith('/token')) {
      const want = 'Basic ' + Buffer.from(`${opts.user}:${opts.password}`).toString('base64');
      if (req.headers.authorization !== want) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    const basic = 'Basic ' + Buffer.from(`${opts.user}:${opts.password}`).toString('base64');
    if (req.headers.authorization !== (scheme === 'bearer' ? `Bearer ${token}` : basic)) {
      const challenge = scheme === 'bearer' ? `Bearer realm="http://${host}/token",service="berth-test",scope="repository:busybox:pull"` : 'Basic realm="berth-test"';
      res.writeHead(401, { 'www-authenticate': challenge }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }));
      return;
    }
    // The front's own Host: the upload Locations the registry builds from it lead back through the front.
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = http.request({ host: '127.0.0.1', port: Number(upstream.split(':')[1]), path: req.url, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      const digest = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url!)?.[1];
      const cut = digest ? cuts.get(digest) : undefined;
      if (digest && stall.delete(digest)) {
        res.flushHeaders();
        ur.destroy();
        return;
      }
      if (digest && corrupt.delete(digest)) {
        let first = true;
        ur.on('data', (c: Buffer) => {
          if (first) {
            first = false;
            c = Buffer.from(c);
            c[c.length - 1] ^= 0xff;
          }
          res.write(c);
        });
        ur.on('end', () => res.end());
        return;
      }
      if (digest && cut !== undefined) {
        cuts.delete(digest);
        let sent = 0;
        ur.on('data', (c: Buffer) => {
          if (sent >= cut) return;
          const part = c.subarray(0, cut - sent);
          sent += part.length;
          if (sent >= cut) {
            ur.destroy();
            // Let the client read the part before the connection breaks.
            res.write(part, () => setTimeout(() => res.destroy(), 300));
          } else res.write(part);
        });
        return;
      }
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host,
    log,
    cutNext: (digest, after) => cuts.set(digest, after),
    corruptNext: (digest) => corrupt.add(digest),
    stallNext: (digest) => stall.add(digest),
    stallNextUpload: () => {
      let held!: () => void;
      let closed!: () => void;
      const p = { held: new Promise<void>((r) => (held = r)), closed: new Promise<void>((r) => (closed = r)) };
      stallUpload = { held, closed };
      return p;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
