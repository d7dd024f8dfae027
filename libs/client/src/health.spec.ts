import { decodeCheckResponse, encodeCheckRequest } from './health';

describe('health check messages', () => {
  it('encodes the request as protobuf', () => {
    expect(encodeCheckRequest('')).toEqual(Buffer.alloc(0));
    expect(encodeCheckRequest('abc')).toEqual(Buffer.from([0x0a, 3, 0x61, 0x62, 0x63]));
    expect(encodeCheckRequest('x'.repeat(200)).subarray(0, 3)).toEqual(Buffer.from([0x0a, 0xc8, 0x01]));
  });
  it('decodes the status', () => {
    expect(decodeCheckResponse(Buffer.from([0x08, 1]))).toBe('SERVING');
    expect(decodeCheckResponse(Buffer.from([0x08, 2]))).toBe('NOT_SERVING');
    expect(decodeCheckResponse(Buffer.alloc(0))).toBe('UNKNOWN');
  });
});
