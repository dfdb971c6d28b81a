import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then a 12-bit counter
 * (method 1 of §6.2) and random bits. Ids sort by creation time — and, within
 * one process, strictly in creation order even inside one millisecond or when
 * the clock steps back — so they serve directly as pagination cursors and keep
 * the audit trail in order.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (sequence >> 8);
  b[7] = sequence & 0xff;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * `bytes` random bytes (at most 4096) as lowercase hex, cut from a pool that
 * one `randomBytes` call fills: identifiers made on every request (request
 * ids, trace and span ids, signature nonces) cost a slice, not a native call
 * each. For identifiers only, never for secrets: the pool's bytes stay in
 * memory until they are used.
 */
export function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  offset += bytes;
  return pool.toString('hex', offset - bytes, offset);
}

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;
