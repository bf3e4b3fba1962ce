import { createHash } from 'node:crypto';

/**
 * Deterministic chunk id (UUID-shaped) from the document and the chunk's position, so a
 * job that runs twice writes the same rows, never a second set.
 */
export function chunkId(documentId: string, chunkIndex: number): string {
  const h = createHash('sha256').update(`${documentId}:${chunkIndex}`).digest('hex');
  // Version 8 (custom) UUID layout: set the version and variant nibbles.
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
