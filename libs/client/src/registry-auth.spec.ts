import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DOCKER_HUB_SERVER, registryConfigPath, removeCredentials, serverKey, storeCredentials, storedCredentials } from './registry-auth';

describe('registry credentials (docker config.json)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-auth-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the file under BERTH_CONFIG, else ~/.config/berth', () => {
    expect(registryConfigPath({ BERTH_CONFIG: '/etc/b', HOME: '/home/x' })).toBe('/etc/b/config.json');
    expect(registryConfigPath({ HOME: '/home/x' })).toBe('/home/x/.config/berth/config.json');
  });

  it('keys servers as docker does', () => {
    expect(serverKey(undefined)).toBe(DOCKER_HUB_SERVER);
    expect(serverKey('docker.io')).toBe(DOCKER_HUB_SERVER);
    expect(serverKey('https://index.docker.io/v1/')).toBe(DOCKER_HUB_SERVER);
    expect(serverKey('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(serverKey('registry.example')).toBe('registry.example');
  });

  it('stores, finds and removes credentials, keeping other entries and keys; 0600 file in a 0700 directory', () => {
    const file = path.join(dir, 'conf', 'config.json');
    storeCredentials('127.0.0.1:5000', { username: 'u', password: 'p:w' }, file);
    storeCredentials('registry.example', { username: 'a', password: 'b' }, file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      auths: { '127.0.0.1:5000': { auth: Buffer.from('u:p:w').toString('base64') }, 'registry.example': { auth: Buffer.from('a:b').toString('base64') } },
    });
    expect(storedCredentials('127.0.0.1:5000', file)).toEqual({ username: 'u', password: 'p:w' });
    expect(storedCredentials('127.0.0.1:5001', file)).toBeUndefined();
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...doc, psFormat: 'x' }));
    expect(removeCredentials('http://127.0.0.1:5000', file)).toBe(true);
    expect(removeCredentials('127.0.0.1:5000', file)).toBe(false);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ psFormat: 'x', auths: { 'registry.example': { auth: Buffer.from('a:b').toString('base64') } } });
    // Written by rename: no temp file stays beside it.
    expect(fs.readdirSync(path.dirname(file))).toEqual(['config.json']);
  });

  it('names the file when it is not JSON', () => {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, '{nope');
    expect(() => storedCredentials('x', file)).toThrow(`${file} is not a valid config file`);
    expect(() => storeCredentials('x', { username: 'a', password: 'b' }, file)).toThrow(`${file} is not a valid config file`);
    expect(fs.readFileSync(file, 'utf8')).toBe('{nope');
  });
});
