import { parseBlkio, parseNetDev, toStats, type RawSample } from './stats';

const NET = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      10    0    0    0     0          0         0     5000      10    0    0    0     0       0          0
  eth0:    1200       8    0    0    0     0          0         0      800       6    0    0    0     0       0          0
`;

it('reads network bytes without loopback', () => {
  expect(parseNetDev(NET)).toEqual({ rx: 1200, tx: 800 });
});

it('sums block I/O over devices', () => {
  expect(parseBlkio('8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:16 Read 100\n8:16 Write 0\nTotal 12388\n')).toEqual({ read: 4196, write: 8192 });
});

it('computes CPU % over the interval and memory without inactive cache, capped limit', () => {
  const base: RawSample = { at: 0n, cpuNs: 0, memUsage: 0, memInactiveFile: 0, memLimit: 0, pids: 0, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0 };
  const prev = { ...base, at: 1_000_000_000n, cpuNs: 5_000_000_000 };
  const cur = { ...base, at: 2_000_000_000n, cpuNs: 5_500_000_000, memUsage: 100_000_000, memInactiveFile: 30_000_000, memLimit: 9223372036854771712, pids: 3 };
  const s = toStats('id', 'web', cur, prev, 8e9);
  expect(s.cpuPercent).toBeCloseTo(50);
  expect(s.memoryUsage).toBe(70_000_000);
  expect(s.memoryLimit).toBe(8e9);
  expect(s.pids).toBe(3);
  expect(toStats('id', 'web', { ...cur, memLimit: 64 * 1024 * 1024 }, undefined, 8e9)).toMatchObject({ cpuPercent: 0, memoryLimit: 67108864 });
});
