import { fp16ToFp32, parseSafetensors } from './safetensors';

function buildFile(header: object, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('widens fp16 to fp32 (normal, subnormal, zero, inf, negative)', () => {
    const halves = [0x3c00, 0xc000, 0x0000, 0x0001, 0x7c00, 0x3555, 0x7bff];
    const bytes = new Uint8Array(new Uint16Array(halves).buffer);
    const f = fp16ToFp32(bytes);
    expect(f[0]).toBe(1);
    expect(f[1]).toBe(-2);
    expect(f[2]).toBe(0);
    expect(f[3]).toBeCloseTo(5.96e-8, 10);
    expect(f[4]).toBe(Infinity);
    expect(f[5]).toBeCloseTo(0.33325, 5);
    expect(f[6]).toBe(65504);
  });

  it('parses header and tensors at their offsets', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0x4000, 0x4200]).buffer); // 1, 2, 3
    const i64 = new Uint8Array(new BigInt64Array([7n, -1n]).buffer);
    const data = new Uint8Array(f16.length + i64.length);
    data.set(i64, 0);
    data.set(f16, i64.length);
    const file = buildFile(
      {
        __metadata__: { format: 'pt' },
        ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
        w: { dtype: 'F16', shape: [1, 3], data_offsets: [16, 22] },
      },
      data,
    );
    const t = parseSafetensors(file);
    expect([...t.keys()].sort()).toEqual(['ids', 'w']);
    expect(Array.from(t.get('w')!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(t.get('w')!.shape).toEqual([1, 3]);
    expect(Array.from(t.get('ids')!.data as BigInt64Array)).toEqual([7n, -1n]);
  });

  it('rejects out-of-range offsets and bad header lengths', () => {
    expect(() => parseSafetensors(buildFile({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, new Uint8Array(4)))).toThrow(
      /out-of-range/,
    );
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseSafetensors(bad)).toThrow(/header length/);
  });
});
