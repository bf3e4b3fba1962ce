import { readFileSync } from 'node:fs';

/** A tensor read from a safetensors file, widened to fp32 where it was a float type. */
export interface SafeTensor {
  dtype: string;
  shape: number[];
  /** Float tensors (F16, BF16, F32) are returned as fp32; I64 as BigInt64Array; I32 as Int32Array. */
  data: Float32Array | BigInt64Array | Int32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

let halfTable: Float32Array | undefined;

/** Lookup table of all 65 536 IEEE-754 half-precision values as fp32. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = sign * frac * 2 ** -24; // subnormal (or zero)
    else if (exp === 0x1f) v = frac ? NaN : sign * Infinity;
    else v = sign * (1 + frac / 1024) * 2 ** (exp - 15);
    table[h] = v;
  }
  halfTable = table;
  return table;
}

/** Widens little-endian IEEE fp16 values to fp32. */
export function fp16ToFp32(bytes: Uint8Array): Float32Array {
  const table = halfToFloatTable();
  const n = bytes.byteLength >>> 1;
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = table[bytes[j] | (bytes[j + 1] << 8)];
  return out;
}

function bf16ToFp32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 1;
  const bits = new Uint32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 2) bits[i] = ((bytes[j] | (bytes[j + 1] << 8)) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}

/** Copies a byte range into a fresh, aligned ArrayBuffer. */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/**
 * Parses a safetensors blob: 8-byte little-endian header length N, N bytes of JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`, then
 * the raw little-endian tensor data (offsets are relative to the start of the data).
 */
export function parseSafetensors(buf: Uint8Array): Map<string, SafeTensor> {
  if (buf.byteLength < 8) throw new Error('safetensors: file too short');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > buf.byteLength) {
    throw new Error(`safetensors: invalid header length ${headerLen}`);
  }
  const header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8')) as Record<
    string,
    HeaderEntry | Record<string, string>
  >;
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = raw as HeaderEntry;
    const [begin, end] = entry.data_offsets;
    if (!(begin >= 0 && end >= begin && end <= dataLen)) {
      throw new Error(`safetensors: tensor ${name} has out-of-range offsets`);
    }
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    let data: SafeTensor['data'];
    switch (entry.dtype) {
      case 'F16':
        data = fp16ToFp32(bytes);
        break;
      case 'BF16':
        data = bf16ToFp32(bytes);
        break;
      case 'F32':
        data = new Float32Array(aligned(bytes));
        break;
      case 'I64':
        data = new BigInt64Array(aligned(bytes));
        break;
      case 'I32':
        data = new Int32Array(aligned(bytes));
        break;
      default:
        throw new Error(`safetensors: unsupported dtype ${entry.dtype} for ${name}`);
    }
    if (data.length !== count) {
      throw new Error(`safetensors: tensor ${name} has ${data.length} elements, shape says ${count}`);
    }
    tensors.set(name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return tensors;
}

export function readSafetensorsFile(file: string): Map<string, SafeTensor> {
  return parseSafetensors(readFileSync(file));
}
