import pino from 'pino';
import { SupervisedProcess } from './supervised-process';

describe('SupervisedProcess', () => {
  it('restarts a child that dies, with backoff, and not after stop()', async () => {
    const log = pino({ level: 'silent' });
    const starts: number[] = [];
    const p = new SupervisedProcess({
      name: 'sleeper',
      command: 'sh',
      args: ['-c', 'sleep 30'],
      env: process.env,
      log,
      minBackoffMs: 50,
      onStart: (c) => starts.push(c.pid!),
    });
    p.start();
    process.kill(starts[0]!, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (starts.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(starts).toHaveLength(2);
    expect(p.restarts).toBe(1);
    await p.stop(1000);
    await new Promise((r) => setTimeout(r, 200));
    expect(starts).toHaveLength(2);
    expect(() => process.kill(starts[1]!, 0)).toThrow();
  });
});
