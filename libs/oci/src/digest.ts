// sha256 digests: "sha256:<64 lowercase hex>".
import { createHash } from 'node:crypto';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export class InvalidDigestError extends Error {
  constructor(value: string) {
    super(`"${value}" is not a valid digest (expected sha256:<64 hex characters>)`);
    this.name = 'InvalidDigestError';
  }
}

export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

export function assertDigest(value: string): string {
  if (!DIGEST_RE.test(value)) throw new InvalidDigestError(value);
  return value;
}

/** The hex part of a digest. */
export function digestHex(digest: string): string {
  return assertDigest(digest).slice('sha256:'.length);
}

export function sha256Digest(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/**
 * The chain id of a layer stack (OCI image spec): ChainID(L0) = DiffID(L0),
 * ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    assertDigest(d);
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256Digest(`${prev} ${d}`));
  }
  return out;
}
