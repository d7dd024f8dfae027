// TCP with TLS and client certificates: a client without a certificate signed by the CA is refused.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { checkHealth, freePort, spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle } from '@berth/testing';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 and two client certificates: one from the CA, one self-signed. */
function makePki(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth-test-ca'], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=berth-${name}`], dir);
    const ext = name === 'server' ? ['-extfile', 'server.ext'] : [];
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', ...ext], dir);
  }
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '1', '-subj', '/CN=rogue'], dir);
}

describe('TCP with TLS and client certificates', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  let pki: string;
  let proc: ReturnType<typeof spawnService>;
  let tcp: string;
  const read = (f: string) => fs.readFileSync(path.join(pki, f));

  beforeAll(async () => {
    nats = await startNatsServer();
    dirs = tempBerthDirs();
    pki = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pki-'));
    makePki(pki);
    tcp = `127.0.0.1:${await freePort()}`;
    proc = spawnService({
      service: 'image-store',
      root: dirs.root,
      runDir: dirs.runDir,
      natsUrl: nats.url,
      tcp,
      env: { BERTH_TLS_CERT: path.join(pki, 'server.pem'), BERTH_TLS_KEY: path.join(pki, 'server.key'), BERTH_TLS_CA: path.join(pki, 'ca.pem') },
    });
    await waitHealthy(proc);
  });

  afterAll(async () => {
    await proc?.stop();
    await nats.dispose();
    dirs.cleanup();
    fs.rmSync(pki, { recursive: true, force: true });
  });

  it('answers a client that presents a certificate from the CA', async () => {
    const creds = grpc.credentials.createSsl(read('ca.pem'), read('client.key'), read('client.pem'));
    expect(await checkHealth(tcp, '', 3000, creds)).toBe('SERVING');
  });

  it('refuses a client without a certificate, with a certificate the CA did not sign, and in plain text', async () => {
    await expect(checkHealth(tcp, '', 3000, grpc.credentials.createSsl(read('ca.pem')))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(checkHealth(tcp, '', 3000, grpc.credentials.createSsl(read('ca.pem'), read('rogue.key'), read('rogue.pem')))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(checkHealth(tcp, '', 3000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('is reached by the SDK over TLS when BERTH_TLS_* name the client certificate', async () => {
    const { BerthClients } = await import('@berth/client');
    const tlsEnv = { BERTH_TLS_CERT: path.join(pki, 'client.pem'), BERTH_TLS_KEY: path.join(pki, 'client.key'), BERTH_TLS_CA: path.join(pki, 'ca.pem') };
    const withCert = new BerthClients({ targets: { 'image-store': tcp }, env: tlsEnv });
    expect((await withCert.images.list({ filter: '' })).images).toEqual([]);
    withCert.close();
    const plain = new BerthClients({ targets: { 'image-store': tcp }, env: {} });
    await expect(plain.images.list({ filter: '' })).rejects.toThrow();
    plain.close();
  });

  it('still serves its root-only unix socket without TLS', async () => {
    expect(await checkHealth(proc.target)).toBe('SERVING');
  });
});
