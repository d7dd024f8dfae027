import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerCgroupDirs, deleteStoppedCrunContainer, startCreatedCrunContainer } from './crun-state';

const ID = 'c'.repeat(64);

function startTimeOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

describe('deleteStoppedCrunContainer', () => {
  let base: string;
  let runtimeRoot: string;
  let cgroupRoot: string;

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sd-'));
    runtimeRoot = path.join(base, 'crun');
    cgroupRoot = path.join(base, 'cgroup');
    for (const c of ['memory', 'cpu,cpuacct', 'unified']) fs.mkdirSync(path.join(cgroupRoot, c, 'berth', ID), { recursive: true });
    // As on the host: cpu and cpuacct name one hierarchy; a hierarchy without the container is skipped.
    fs.symlinkSync('cpu,cpuacct', path.join(cgroupRoot, 'cpu'));
    fs.mkdirSync(path.join(cgroupRoot, 'pids', 'berth'), { recursive: true });
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  function writeState(status: Record<string, unknown>, config: Record<string, unknown> = {}): string {
    const dir = path.join(runtimeRoot, ID);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'status'), JSON.stringify({ 'cgroup-path': `/berth/${ID}`, 'systemd-cgroup': false, ...status }));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  }

  const deadPid = () => spawnSync('true').pid!;

  it('removes the cgroups (each hierarchy once) and the state of a container whose process is gone', () => {
    expect(containerCgroupDirs(`/berth/${ID}`, cgroupRoot).map((d) => path.relative(cgroupRoot, d)).sort())
      .toEqual([`cpu,cpuacct/berth/${ID}`, `memory/berth/${ID}`, `unified/berth/${ID}`]);
    const dir = writeState({ pid: deadPid(), 'process-start-time': 1 });
    expect(deleteStoppedCrunContainer(runtimeRoot, ID, cgroupRoot)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
    expect(containerCgroupDirs(`/berth/${ID}`, cgroupRoot)).toEqual([]);
    // The parent stays, as crun leaves it.
    expect(fs.existsSync(path.join(cgroupRoot, 'memory', 'berth'))).toBe(true);
  });

  it('is done when the runtime has no such container', () => {
    expect(deleteStoppedCrunContainer(runtimeRoot, ID, cgroupRoot)).toBe(true);
  });

  it('leaves a live process, a busy cgroup and poststop hooks to the runtime, changing nothing it needs', () => {
    const dir = writeState({ pid: process.pid, 'process-start-time': startTimeOf(process.pid) });
    expect(deleteStoppedCrunContainer(runtimeRoot, ID, cgroupRoot)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'status'))).toBe(true);
    expect(containerCgroupDirs(`/berth/${ID}`, cgroupRoot)).toHaveLength(3);

    // A recycled pid (another start time) is not the container's process.
    writeState({ pid: process.pid, 'process-start-time': startTimeOf(process.pid) + 1 }, { hooks: { poststop: [{ path: '/bin/true' }] } });
    expect(deleteStoppedCrunContainer(runtimeRoot, ID, cgroupRoot)).toBe(false);

    writeState({ pid: process.pid, 'process-start-time': startTimeOf(process.pid) + 1 });
    fs.writeFileSync(path.join(cgroupRoot, 'memory', 'berth', ID, 'busy'), '');
    expect(deleteStoppedCrunContainer(runtimeRoot, ID, cgroupRoot)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'status'))).toBe(true);
  });
});

describe('startCreatedCrunContainer', () => {
  let root: string;
  let dir: string;
  let fifo: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cs-'));
    dir = path.join(root, ID);
    fifo = path.join(dir, 'exec.fifo');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes the one byte the waiting init reads and removes the fifo, as crun start does', () => {
    // The container's init holds the read end.
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      expect(startCreatedCrunContainer(root, ID)).toBe(true);
      const b = Buffer.alloc(4);
      expect(fs.readSync(reader, b, 0, 4, null)).toBe(1);
      expect(b[0]).toBe(0);
    } finally {
      fs.closeSync(reader);
    }
    expect(fs.existsSync(fifo)).toBe(false);
  });

  it('leaves it to crun start when nobody waits, hooks must run, or there is no fifo', () => {
    expect(startCreatedCrunContainer(root, ID)).toBe(false);
    expect(fs.existsSync(fifo)).toBe(true);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ hooks: { poststart: [{ path: '/bin/true' }] } }));
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      expect(startCreatedCrunContainer(root, ID)).toBe(false);
    } finally {
      fs.closeSync(reader);
    }
    expect(fs.existsSync(fifo)).toBe(true);
    expect(startCreatedCrunContainer(root, 'd'.repeat(64))).toBe(false);
  });
});
