import { compileTemplate, goString } from './template';

const doc = {
  Id: 'abc',
  State: { Pid: 42, Running: true, Status: 'running' },
  HostConfig: { CpuShares: 256, Memory: 67108864 },
  NetworkSettings: { IPAddress: '10.88.0.2', Ports: {} },
  Config: { Env: ['A=1', 'B=2'], Labels: { app: 'web', tier: 'front' } },
  Mounts: [],
};

describe('--format templates', () => {
  it.each([
    ['{{.State.Pid}}', '42'],
    ['{{.HostConfig.CpuShares}}', '256'],
    ['pid={{ .State.Pid }} ip={{.NetworkSettings.IPAddress}}', 'pid=42 ip=10.88.0.2'],
    ['{{json .NetworkSettings}}', '{"IPAddress":"10.88.0.2","Ports":{}}'],
    ['{{.NetworkSettings | json}}', '{"IPAddress":"10.88.0.2","Ports":{}}'],
    ['{{.Config.Env}}', '[A=1 B=2]'],
    ['{{.Config.Labels}}', 'map[app:web tier:front]'],
    ['{{index .Config.Labels "app"}}', 'web'],
    ['{{len .Config.Env}}', '2'],
    ['{{join .Config.Env ","}}', 'A=1,B=2'],
    ['{{upper .State.Status}}', 'RUNNING'],
    ['{{.State.Running}}', 'true'],
    ['{{.Missing}}', '<no value>'],
    ['{{json .Mounts}}', '[]'],
    ['{{.state.pid}}', '42'],
  ])('%s', (tpl, want) => expect(compileTemplate(tpl).render(doc)).toBe(want));

  it('table prefix gives a header from the field names', () => {
    const t = compileTemplate('table {{.ID}}\\t{{.Names}}');
    expect(t.header).toBe('ID\tNAMES');
    expect(t.render({ ID: 'x', Names: 'web' })).toBe('x\tweb');
  });

  it.each([
    ['{{.State.Pid', /unclosed action/],
    ['{{}}', /empty action/],
    ['{{frob .X}}', /function "frob" not defined/],
  ])('refuses %s with a clear error', (tpl, re) => expect(() => compileTemplate(tpl).render(doc)).toThrow(re));

  it('prints values as Go does', () => {
    expect(goString(null)).toBe('<nil>');
    expect(goString([1, 'a'])).toBe('[1 a]');
    expect(goString({ b: 1, a: [2] })).toBe('map[a:[2] b:1]');
  });
});
