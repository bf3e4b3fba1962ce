import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeModel, OnnxDataType, ProtoWriter } from './onnx-proto.writer';

describe('ProtoWriter', () => {
  it('encodes varints, negative ints, strings and nested messages', () => {
    expect(Array.from(new ProtoWriter().int(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
    expect(Array.from(new ProtoWriter().int(2, -1).finish())).toEqual([0x10, ...Array(9).fill(0xff), 0x01]);
    expect(Array.from(new ProtoWriter().string(2, 'testing').finish())).toEqual([0x12, 0x07, ...Buffer.from('testing')]);
    const inner = new ProtoWriter().int(1, 150);
    expect(Array.from(new ProtoWriter().message(3, inner).finish())).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
    expect(Array.from(new ProtoWriter().float(1, 1).finish())).toEqual([0x0d, 0x00, 0x00, 0x80, 0x3f]);
  });

  it('keeps large payloads intact', () => {
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    const out = new ProtoWriter().bytes(9, big).finish();
    expect(Array.from(out.subarray(0, 3))).toEqual([0x4a, 0xe8, 0x07]);
    expect(Buffer.from(out.subarray(3)).equals(Buffer.from(big))).toBe(true);
  });

  it('produces a model onnxruntime accepts and runs', async () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsets: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        nodes: [
          { opType: 'Add', inputs: ['x', 'b'], outputs: ['s'] },
          { opType: 'ReduceSum', inputs: ['s', 'axes'], outputs: ['y'], attributes: { keepdims: { kind: 'int', value: 0 } } },
        ],
        initializers: [
          { name: 'b', dataType: OnnxDataType.FLOAT, dims: [3], raw: new Uint8Array(new Float32Array([1, 2, 3]).buffer) },
          { name: 'axes', dataType: OnnxDataType.INT64, dims: [1], raw: new Uint8Array(new BigInt64Array([-1n]).buffer) },
        ],
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['n', 3] }],
        outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['n'] }],
      },
    });
    // Run ORT in a plain Node process: inside jest's sandbox, onnxruntime-node's output
    // tensors fail its own `instanceof Float32Array` check (different realm).
    const dir = mkdtempSync(path.join(tmpdir(), 'onnx-writer-'));
    try {
      const file = path.join(dir, 'model.onnx');
      writeFileSync(file, bytes);
      const script = `
        const ort = require('onnxruntime-node');
        ort.InferenceSession.create(process.argv[1]).then(async (s) => {
          const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([0, 0, 0, 10, 10, 10]), [2, 3]) });
          console.log(JSON.stringify(Array.from(r.y.data)));
        });`;
      const out = execFileSync(process.execPath, ['-e', script, file], { cwd: path.resolve(__dirname, '../../..'), encoding: 'utf8' });
      expect(JSON.parse(out.trim())).toEqual([6, 36]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
