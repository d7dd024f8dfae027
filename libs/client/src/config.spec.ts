// Where the services are and how the client talks to them: a real TLS server on loopback checks which roots a
// client built from the environment trusts (bin/berth moves NODE_EXTRA_CA_CERTS to BERTH_NODE_EXTRA_CA_CERTS).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { channelCredentials, serviceTarget, trustedRoots } from './config';
import { InvalidArgumentError } from './errors';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, EC keys (fast). */
function makePki(dir: string): void {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth-client-test-ca']);
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    openssl(['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=berth-${name}`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', ...(name === 'server' ? ['-extfile', 'server.ext'] : [])]);
  }
}

describe('serviceTarget', () => {
  it('reads BERTH_<SERVICE>_ADDR, else the socket under BERTH_RUN', () => {
    expect(serviceTarget('image-store', { BERTH_RUN: '/tmp/r' })).toBe('unix:///tmp/r/image-store.sock');
    expect(serviceTarget('image-store', { BERTH_IMAGE_STORE_ADDR: '/x.sock' })).toBe('unix:///x.sock');
    expect(serviceTarget('inspector', { BERTH_INSPECTOR_ADDR: '127.0.0.1:7000' })).toBe('127.0.0.1:7000');
    expect(serviceTarget('rootfs', {})).toBe('unix:///run/berth/rootfs.sock');
  });
});

describe('channelCredentials over TLS', () => {
  let pki: string;
  let server: grpc.Server;
  let target: string;
  const file = (f: string) => path.join(pki, f);

  beforeAll(async () => {
    pki = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-client-pki-'));
    makePki(pki);
    server = new grpc.Server();
    const creds = grpc.ServerCredentials.createSsl(fs.readFileSync(file('ca.pem')), [{ cert_chain: fs.readFileSync(file('server.pem')), private_key: fs.readFileSync(file('server.key')) }], true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
    target = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    server?.forceShutdown();
    fs.rmSync(pki, { recursive: true, force: true });
  });

  /** Resolves true once a TLS connection is up (the handshake passed), false when it is not within waitMs. */
  function connects(env: Record<string, string>, waitMs = 2000): Promise<boolean> {
    const client = new grpc.Client(target, channelCredentials(target, env));
    return new Promise((resolve) =>
      client.waitForReady(Date.now() + waitMs, (e) => {
        client.close();
        resolve(!e);
      }),
    );
  }
  const clientCert = () => ({ BERTH_TLS_CERT: file('client.pem'), BERTH_TLS_KEY: file('client.key') });

  it('trusts the CA named by BERTH_TLS_CA', async () => {
    expect(await connects({ ...clientCert(), BERTH_TLS_CA: file('ca.pem') })).toBe(true);
  });

  it('without BERTH_TLS_CA trusts what NODE_EXTRA_CA_CERTS named, handed over as BERTH_NODE_EXTRA_CA_CERTS', async () => {
    expect(await connects({ ...clientCert(), BERTH_NODE_EXTRA_CA_CERTS: file('ca.pem') })).toBe(true);
    expect(await connects({ ...clientCert(), NODE_EXTRA_CA_CERTS: file('ca.pem') })).toBe(true);
  });

  it('without BERTH_TLS_CA trusts GRPC_DEFAULT_SSL_ROOTS_FILE_PATH instead of the bundled CAs, as grpc does', async () => {
    expect(await connects({ ...clientCert(), GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: file('ca.pem') })).toBe(true);
    const roots = trustedRoots({ GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: file('ca.pem') }).toString();
    expect(roots).toBe(fs.readFileSync(file('ca.pem'), 'utf8'));
    expect(() => trustedRoots({ GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: file('nope.pem') })).toThrow(/^cannot read GRPC_DEFAULT_SSL_ROOTS_FILE_PATH .*nope\.pem: ENOENT/);
  });

  it('without BERTH_TLS_CA nor extra certs refuses a server its roots do not vouch for', async () => {
    expect(await connects(clientCert(), 1000)).toBe(false);
  });

  it('trustedRoots is Node bundled CAs plus the extra file, and skips an unreadable one with a warning', () => {
    const ca = fs.readFileSync(file('ca.pem'), 'utf8');
    const roots = trustedRoots({ BERTH_NODE_EXTRA_CA_CERTS: file('ca.pem') }).toString();
    expect(roots).toContain(ca.trim());
    expect(roots).toContain(tls.rootCertificates[0]!);
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(trustedRoots({ BERTH_NODE_EXTRA_CA_CERTS: file('missing.pem') }).toString()).toBe(tls.rootCertificates.join('\n'));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`Ignoring extra certs from ${file('missing.pem')}`));
    } finally {
      warn.mockRestore();
    }
  });

  it('is plain for unix sockets and without a client certificate; half a certificate or a missing file is a clear error', () => {
    expect(channelCredentials('unix:///run/berth/x.sock', clientCert())._isSecure()).toBe(false);
    expect(channelCredentials(target, {})._isSecure()).toBe(false);
    expect(channelCredentials(target, clientCert())._isSecure()).toBe(true);
    expect(() => channelCredentials(target, { BERTH_TLS_CERT: file('client.pem') })).toThrow(new InvalidArgumentError('TLS needs both BERTH_TLS_CERT and BERTH_TLS_KEY (only BERTH_TLS_CERT is set)'));
    expect(() => channelCredentials(target, { ...clientCert(), BERTH_TLS_CA: file('nope.pem') })).toThrow(/^cannot read BERTH_TLS_CA .*nope\.pem: ENOENT/);
  });
});
