// Layer blobs come gzip-, zstd- or not compressed; the media type can lie, so the first bytes decide.
import { Readable, PassThrough, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { DecompressStream } from 'zstd-napi';

export type Compression = 'gzip' | 'zstd' | 'none';

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export function decompressor(c: Compression): Transform {
  switch (c) {
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
      return new DecompressStream() as unknown as Transform;
    case 'none':
      return new PassThrough();
  }
}

/**
 * Reads the first bytes of `chunks` to learn the compression, and returns a stream of the whole blob
 * again (head included) plus that compression. `onChunk` sees every compressed byte (for its digest).
 */
export async function sniff(chunks: AsyncIterable<Buffer>, onChunk: (b: Buffer) => void): Promise<{ compression: Compression; stream: Readable }> {
  const it = chunks[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    onChunk(r.value);
    head = Buffer.concat([head, r.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      onChunk(r.value);
      yield r.value;
    }
  }
  return { compression: sniffCompression(head), stream: Readable.from(rest(), { objectMode: false }) };
}
