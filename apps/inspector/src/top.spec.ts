import { InvalidPsArgsError } from './errors';
import { filterRows, parsePsOutput, psArgs } from './top';

const EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root        4242    4240  0 10:01 ?        00:00:00 sleep 1000
root        4300    4240  0 10:02 pts/0    00:00:00 sh -c x=$(head -c 10 /dev/zero); sleep 60
`;
const AUX = `USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND
root        4242  0.0  0.0   1000   400 ?        Ss   10:01   0:00 sleep 1000
root        9999  0.0  0.0   1000   400 ?        Ss   10:01   0:00 other thing
`;

describe('top', () => {
  it('defaults to -ef and splits multi-word arguments', () => {
    expect(psArgs([])).toEqual(['-ef']);
    expect(psArgs(['aux'])).toEqual(['aux']);
    expect(psArgs(['-o pid,comm'])).toEqual(['-o', 'pid,comm']);
    expect(() => psArgs(['-e\0'])).toThrow(InvalidPsArgsError);
  });

  it('parses -ef output, keeping the command whole, and keeps the container rows with their namespace pid', () => {
    const t = parsePsOutput(EF);
    expect(t.titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    const res = filterRows(t, [4242, 4300], (pid) => (pid === 4242 ? 1 : 7));
    expect(res.titles).toEqual(t.titles);
    expect(res.processes).toEqual([
      { columns: ['root', '4242', '4240', '0', '10:01', '?', '00:00:00', 'sleep 1000'], hostPid: 4242, containerPid: 1 },
      { columns: ['root', '4300', '4240', '0', '10:02', 'pts/0', '00:00:00', 'sh -c x=$(head -c 10 /dev/zero); sleep 60'], hostPid: 4300, containerPid: 7 },
    ]);
  });

  it('parses aux output', () => {
    const res = filterRows(parsePsOutput(AUX), [4242], () => 1);
    expect(res.titles).toEqual(['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND']);
    expect(res.processes.map((p) => p.columns.at(-1))).toEqual(['sleep 1000']);
  });

  it('refuses ps output without a PID column', () => {
    expect(() => filterRows(parsePsOutput('COMMAND\nsleep\n'), [1])).toThrow(/no PID column/);
  });
});
