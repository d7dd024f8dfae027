// The CNI exec protocol with small shell plugins that log what they were given.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CniInvoker, type CniConfList } from './cni-invoker';

describe('CniInvoker', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cni-'));
    log = path.join(dir, 'calls.log');
    // "echo" plugin: logs command, env and stdin; ADD prints a result naming itself.
    const plugin = (name: string) => `#!/bin/sh
stdin=$(cat)
echo "${name} $CNI_COMMAND id=$CNI_CONTAINERID netns=$CNI_NETNS if=$CNI_IFNAME path=$CNI_PATH haspath=\${PATH:+yes} $stdin" >> ${log}
if [ "$CNI_COMMAND" = ADD ]; then printf '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.${name === 'one' ? 2 : 3}/24"}],"interfaces":[{"name":"${name}"}]}'; fi
`;
    for (const n of ['one', 'two']) fs.writeFileSync(path.join(dir, n), plugin(n), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'bad'), '#!/bin/sh\ncat >/dev/null\necho \'{"code":7,"msg":"invalid network config","details":"bridge missing"}\'\nexit 1\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'crash'), '#!/bin/sh\ncat >/dev/null\necho boom >&2\nexit 2\n', { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rt = { containerId: 'c1', netns: '/run/netns/x', ifName: 'eth0', capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] } };
  const list: CniConfList = { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'one', k: 1 }, { type: 'two', capabilities: { portMappings: true } }] };

  it('ADD runs in order chaining prevResult; runtimeConfig only for declared capabilities; DEL in reverse with the cached result', async () => {
    const inv = new CniInvoker({ pluginDirs: [dir] });
    const result = await inv.addList(list, rt);
    expect(result.interfaces).toEqual([{ name: 'two' }]);
    await inv.delList(list, rt, result);
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
    const parsed = calls.map((l) => {
      const [name, cmd, id, netns, ifn, p, haspath] = l.split(' ');
      return { name, cmd, id, netns, ifn, p, haspath, stdin: JSON.parse(l.slice(l.indexOf('{'))) };
    });
    expect(parsed.map((c) => `${c.name} ${c.cmd}`)).toEqual(['one ADD', 'two ADD', 'two DEL', 'one DEL']);
    expect(parsed[0]).toMatchObject({ id: 'id=c1', netns: 'netns=/run/netns/x', ifn: 'if=eth0', p: `path=${dir}`, haspath: 'haspath=yes' });
    expect(parsed[0]!.stdin).toEqual({ type: 'one', k: 1, cniVersion: '1.0.0', name: 'n' });
    expect(parsed[1]!.stdin).toEqual({
      type: 'two',
      capabilities: { portMappings: true },
      cniVersion: '1.0.0',
      name: 'n',
      prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }], interfaces: [{ name: 'one' }] },
      runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] },
    });
    // DEL: every plugin gets the final ADD result.
    expect(parsed[2]!.stdin.prevResult).toEqual(result);
    expect(parsed[3]!.stdin.prevResult).toEqual(result);
  });

  it('turns a CNI error object, a crash and a missing plugin into typed errors', async () => {
    const inv = new CniInvoker({ pluginDirs: [dir] });
    await expect(inv.addList({ ...list, plugins: [{ type: 'bad' }] }, rt)).rejects.toMatchObject({
      name: 'CniPluginError',
      cniCode: 7,
      message: 'CNI plugin bad ADD failed (code 7): invalid network config (bridge missing)',
    });
    await expect(inv.addList({ ...list, plugins: [{ type: 'crash' }] }, rt)).rejects.toMatchObject({
      cniCode: 0,
      message: 'CNI plugin crash ADD failed (code 0): exit code 2 (boom)',
    });
    await expect(inv.addList({ ...list, plugins: [{ type: 'absent' }] }, rt)).rejects.toMatchObject({
      name: 'CniPluginMissingError',
      grpcCode: 9,
    });
  });

  it('DEL keeps going past a failing plugin and reports the failure', async () => {
    const inv = new CniInvoker({ pluginDirs: [dir] });
    const l2: CniConfList = { ...list, plugins: [{ type: 'one' }, { type: 'bad' }] };
    await expect(inv.delList(l2, rt, undefined)).rejects.toMatchObject({ cniCode: 7 });
    expect(fs.readFileSync(log, 'utf8')).toMatch(/^one DEL /);
  });
});
