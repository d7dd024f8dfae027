import { timeline } from './profile-run';

describe('timeline', () => {
  it('keeps the execs and exits inside the span, drops failed PATH lookups and signals', () => {
    const trace = [
      '100 9.990 execve("/usr/bin/early", ["early"], 0x1 /* 1 vars */) = 0',
      '101 10.0005 execve("/root/bin/mount", ["mount", "-t", "overlay"], 0x1 /* 3 vars */) = -1 ENOENT (No such file or directory)',
      '101 10.001 execve("/usr/bin/mount", ["mount", "-t", "overlay", "-o", "x"], 0x1 /* 3 vars */) = 0',
      '50 10.002 --- SIGCHLD {si_signo=SIGCHLD} ---',
      '101 10.0125 +++ exited with 0 +++',
    ].join('\n');
    expect(timeline(trace, 10, 10.1)).toEqual(['    1.0     101 exec mount -t overlay -o', '   12.5     101 +++ exited with 0 +++']);
  });
});
