// SIGTERM while a call is in flight: the call finishes, new calls are refused, the process exits 0.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { contentV1 } from '@berth/api';
import { spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle } from '@berth/testing';

describe('graceful shutdown of a real service', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;

  beforeAll(async () => {
    nats = await startNatsServer();
    dirs = tempBerthDirs();
  });
  afterAll(async () => {
    await nats.dispose();
    dirs.cleanup();
  });

  it('lets a Content.Write that is under way complete after SIGTERM', async () => {
    const proc = spawnService({ service: 'image-store', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    await waitHealthy(proc);
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    const client = new contentV1.ContentClient(proc.target, grpc.credentials.createInsecure());
    const result = new Promise<contentV1.WriteContentResponse>((resolve, reject) => {
      const call = client.write((err, res) => (err ? reject(err) : resolve(res!)));
      call.write({ part: { $case: 'start', value: { ref: 'graceful', expectedDigest: digest, expectedSize: data.length, offset: 0 } } });
      call.write({ part: { $case: 'data', value: data.subarray(0, 1024 * 1024) } });
      setTimeout(() => {
        proc.child.kill('SIGTERM');
        setTimeout(() => {
          call.write({ part: { $case: 'data', value: data.subarray(1024 * 1024) } });
          call.end();
        }, 300);
      }, 200);
    });
    const res = await result;
    expect(res).toEqual({ digest, size: data.length, alreadyExisted: false });
    const { code } = await proc.exited;
    expect(code).toBe(0);
    client.close();
  });
});
