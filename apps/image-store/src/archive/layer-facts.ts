// Learns what a blob is while its bytes stream past: its compression (from the magic bytes) and, for a
// layer, the digest and size of the uncompressed tar (the diff id). Memory stays bounded: the decompressor
// is fed with backpressure and its output is only hashed.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { sniffCompression, type Compression } from '@berth/oci';
import { DecompressStream } from 'zstd-napi';

export interface LayerFactsResult {
  compression: Compression;
  /** sha256 of the uncompressed bytes; undefined when they did not decompress. */
  diffId?: string;
  uncompressedSize?: number;
  /** Why decompression failed, when it did. */
  error?: string;
}

export function decompressor(c: Compression): Transform | undefined {
  if (c === 'gzip') return zlib.createGunzip();
  if (c === 'zstd') return new DecompressStream();
  return undefined;
}

export class LayerFacts {
  private head: Buffer[] = [];
  private headLen = 0;
  private compression: Compression | undefined;
  private readonly hash = createHash('sha256');
  private size = 0;
  private decomp: Transform | undefined;
  private error: string | undefined;
  private ended: Promise<void> | undefined;

  async push(chunk: Buffer | Uint8Array): Promise<void> {
    if (this.compression === undefined) {
      this.head.push(Buffer.from(chunk));
      this.headLen += chunk.length;
      if (this.headLen < 4) return;
      await this.start();
      return;
    }
    await this.feed(Buffer.from(chunk));
  }

  private async start(): Promise<void> {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.compression = sniffCompression(head);
    this.decomp = decompressor(this.compression);
    if (this.decomp) {
      const d = this.decomp;
      d.on('data', (out: Buffer) => {
        this.hash.update(out);
        this.size += out.length;
      });
      this.ended = new Promise<void>((resolve) => {
        d.once('end', resolve);
        d.once('error', (err: Error) => {
          this.error = err.message;
          resolve();
        });
      });
    }
    await this.feed(head);
  }

  private async feed(buf: Buffer): Promise<void> {
    if (this.error) return;
    if (!this.decomp) {
      // Uncompressed: the diff id is the blob digest the content store computes anyway.
      this.size += buf.length;
      return;
    }
    if (!this.decomp.write(buf)) await Promise.race([once(this.decomp, 'drain'), this.ended]);
  }

  /** The facts, given the digest of the blob as streamed (the diff id of an uncompressed layer). */
  async finish(blobDigest: string): Promise<LayerFactsResult> {
    if (this.compression === undefined) await this.start();
    if (this.decomp) {
      if (!this.error) this.decomp.end();
      await this.ended;
    }
    if (this.error) return { compression: this.compression!, error: this.error };
    const diffId = this.decomp ? 'sha256:' + this.hash.digest('hex') : blobDigest;
    return { compression: this.compression!, diffId, uncompressedSize: this.size };
  }
}
