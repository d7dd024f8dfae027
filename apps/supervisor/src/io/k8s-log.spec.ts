import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LineAssembler, parseRecord, readLog } from './k8s-log';

describe('k8s-file log', () => {
  it('parses records and joins partial lines per stream', () => {
    expect(parseRecord('2026-11-28T17:30:03.585054749+00:00 stdout F out line')).toEqual({
      time: new Date('2026-11-28T17:30:03.585Z'), stream: 'stdout', partial: false, text: 'out line',
    });
    expect(parseRecord('garbage')).toBeUndefined();
    const a = new LineAssembler();
    expect(a.push('2026-11-28T17:30:03.000000001+00:00 stdout P abc')).toBeUndefined();
    expect(a.push('2026-11-28T17:30:04.000000001+00:00 stderr F err')!.line.toString()).toBe('err\n');
    const l = a.push('2026-11-28T17:30:05.000000001+00:00 stdout F def')!;
    expect(l.line.toString()).toBe('abcdef\n');
    expect(l.time.toISOString()).toBe('2026-11-28T17:30:03.000Z');
    a.push('2026-11-28T17:30:06.000000001+00:00 stdout P tail-no-newline');
    expect(a.flush().map((x) => x.line.toString())).toEqual(['tail-no-newline']);
  });

  it('filters by stream, time and tail', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-log-'));
    const file = path.join(dir, 'ctr.log');
    fs.writeFileSync(file, [1, 2, 3, 4].map((i) => `2026-11-28T17:30:0${i}.000000000+00:00 ${i % 2 ? 'stdout' : 'stderr'} F l${i}`).join('\n') + '\n');
    const read = async (o: Partial<Parameters<typeof readLog>[1]>) => {
      const out: string[] = [];
      for await (const l of readLog(file, { follow: false, tail: -1, stdout: true, stderr: true, alive: () => false, ...o })) out.push(l.line.toString().trim());
      return out;
    };
    try {
      expect(await read({})).toEqual(['l1', 'l2', 'l3', 'l4']);
      expect(await read({ stderr: false })).toEqual(['l1', 'l3']);
      expect(await read({ tail: 2 })).toEqual(['l3', 'l4']);
      expect(await read({ since: new Date('2026-11-28T17:30:02Z'), until: new Date('2026-11-28T17:30:04Z') })).toEqual(['l2', 'l3']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
