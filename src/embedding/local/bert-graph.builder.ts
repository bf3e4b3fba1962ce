import type { SafeTensor } from './safetensors';
import { encodeModel, OnnxDataType, type AttributeValue, type OnnxNode, type OnnxTensor } from './onnx-proto.writer';

/** The subset of a Hugging Face BERT `config.json` the graph needs. */
export interface BertConfig {
  hidden_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  intermediate_size: number;
  layer_norm_eps: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  vocab_size: number;
  hidden_act?: string;
}

export interface BertGraphOptions {
  /**
   * Store the encoder's dense (MatMul) weights as per-output-column symmetric int8 and
   * run them through com.microsoft DynamicQuantizeMatMul (activations are quantised
   * to uint8 at run time). Embeddings, LayerNorms and attention products stay fp32.
   */
  quantize?: boolean;
  /** Which Linear layers (by weight prefix, e.g. `encoder.layer.0.output.dense`) to quantise; default all. */
  quantizeLayer?: (prefix: string) => boolean;
}

export const ONNX_OPSET = 17; // LayerNormalization is in the default domain from opset 17
export const ONNX_IR_VERSION = 8;

/**
 * Builds a sentence-transformers style BERT encoder as ONNX ModelProto bytes:
 *   inputs  input_ids, attention_mask : int64 [batch, seq]
 *   output  embeddings                : float [batch, hidden]   (mean-pooled, L2-normalised)
 * Token type ids are taken to be all zero (single-sentence input).
 */
export function buildBertOnnxModel(
  weights: Map<string, SafeTensor>,
  config: BertConfig,
  options: BertGraphOptions = {},
): Uint8Array {
  const g = new GraphBuilder();
  const H = config.hidden_size;
  const heads = config.num_attention_heads;
  if (H % heads !== 0) throw new Error(`hidden_size ${H} is not divisible by num_attention_heads ${heads}`);
  const headDim = H / heads;
  const eps = config.layer_norm_eps;
  const act = (config.hidden_act ?? 'gelu').toLowerCase();
  if (act !== 'gelu') throw new Error(`unsupported hidden_act ${config.hidden_act}`);

  const get = (name: string, shape: number[]): Float32Array => {
    const t = weights.get(name) ?? weights.get(`bert.${name}`);
    if (!t) throw new Error(`missing weight ${name}`);
    if (!(t.data instanceof Float32Array)) throw new Error(`weight ${name} is not a float tensor`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`weight ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t.data;
  };
  const param = (name: string, shape: number[]) => g.floatInit(name, shape, get(name, shape));

  /** y = x · Wᵀ + b for a PyTorch Linear weight W[out, in]. */
  const linear = (x: string, prefix: string, inDim: number, outDim: number): string => {
    const w = get(`${prefix}.weight`, [outDim, inDim]);
    const wT = transpose(w, outDim, inDim); // [in, out]
    const bias = param(`${prefix}.bias`, [outDim]);
    if (options.quantize && (options.quantizeLayer?.(prefix) ?? true)) {
      // DynamicQuantizeMatMul: quantises `x` per tensor to uint8 at run time, multiplies with the
      // int8 weights and rescales by a_scale · b_scale[col], then adds the bias — one fused kernel.
      const q = quantizePerColumn(wT, inDim, outDim);
      const qw = g.init({ name: `${prefix}.weight_q`, dataType: OnnxDataType.INT8, dims: [inDim, outDim], raw: bytesOf(q.values) });
      const scale = g.floatInit(`${prefix}.weight_scale`, [outDim], q.scales);
      return g.op('DynamicQuantizeMatMul', [x, qw, scale, '', bias], {}, 'com.microsoft');
    }
    const wName = g.floatInit(`${prefix}.weight_t`, [inDim, outDim], wT);
    return g.op('Add', [g.op('MatMul', [x, wName]), bias]);
  };

  const layerNorm = (x: string, prefix: string): string =>
    g.op('LayerNormalization', [x, param(`${prefix}.weight`, [H]), param(`${prefix}.bias`, [H])], {
      axis: { kind: 'int', value: -1 },
      epsilon: { kind: 'float', value: eps },
    });

  // ---- embeddings
  const wordEmb = param('embeddings.word_embeddings.weight', [config.vocab_size, H]);
  const posEmb = param('embeddings.position_embeddings.weight', [config.max_position_embeddings, H]);
  const typeEmbAll = get('embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]);
  const typeEmb0 = g.floatInit('embeddings.token_type_embeddings.row0', [H], typeEmbAll.subarray(0, H));

  const words = g.op('Gather', [wordEmb, 'input_ids'], { axis: { kind: 'int', value: 0 } }); // [B,S,H]
  const seqLen = g.op('Shape', ['input_ids'], { start: { kind: 'int', value: 1 }, end: { kind: 'int', value: 2 } }); // [1]
  const zero1 = g.int64Init('const.zero_1', [1], [0n]);
  const positions = g.op('Slice', [posEmb, zero1, seqLen, zero1]); // [S,H]
  let x = g.op('Add', [g.op('Add', [words, positions]), typeEmb0]);
  x = layerNorm(x, 'embeddings.LayerNorm');

  // ---- attention bias: 0 where attended, -10000 where padded; [B,1,1,S]
  const maskF = g.op('Cast', ['attention_mask'], { to: { kind: 'int', value: OnnxDataType.FLOAT } }); // [B,S]
  const one = g.floatInit('const.one', [], [1]);
  const negBig = g.floatInit('const.neg_big', [], [-10000]);
  const maskBias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [one, maskF]), negBig]), g.int64Init('const.axes_1_2', [2], [1n, 2n])]);

  const headsShape = g.int64Init('const.shape_heads', [4], [0n, 0n, BigInt(heads), BigInt(headDim)]);
  const mergedShape = g.int64Init('const.shape_merged', [3], [0n, 0n, BigInt(H)]);
  const scale = g.floatInit('const.attn_scale', [], [1 / Math.sqrt(headDim)]);
  const sqrtHalf = g.floatInit('const.inv_sqrt2', [], [Math.SQRT1_2]);
  const half = g.floatInit('const.half', [], [0.5]);
  const perm = (p: number[]): AttributeValue => ({ kind: 'ints', value: p });

  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const q = linear(x, `${p}.attention.self.query`, H, H);
    const k = linear(x, `${p}.attention.self.key`, H, H);
    const v = linear(x, `${p}.attention.self.value`, H, H);
    const qh = g.op('Transpose', [g.op('Reshape', [q, headsShape])], { perm: perm([0, 2, 1, 3]) }); // [B,h,S,d]
    const kh = g.op('Transpose', [g.op('Reshape', [k, headsShape])], { perm: perm([0, 2, 3, 1]) }); // [B,h,d,S]
    const vh = g.op('Transpose', [g.op('Reshape', [v, headsShape])], { perm: perm([0, 2, 1, 3]) }); // [B,h,S,d]
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [qh, kh]), scale]), maskBias]); // [B,h,S,S]
    const probs = g.op('Softmax', [scores], { axis: { kind: 'int', value: -1 } });
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: perm([0, 2, 1, 3]) }), mergedShape]);
    const attnOut = linear(ctx, `${p}.attention.output.dense`, H, H);
    x = layerNorm(g.op('Add', [attnOut, x]), `${p}.attention.output.LayerNorm`);

    const inter = linear(x, `${p}.intermediate.dense`, H, config.intermediate_size);
    // exact GELU: 0.5 · x · (1 + erf(x / √2))
    const gelu = g.op('Mul', [g.op('Mul', [inter, half]), g.op('Add', [g.op('Erf', [g.op('Mul', [inter, sqrtHalf])]), one])]);
    const ffnOut = linear(gelu, `${p}.output.dense`, config.intermediate_size, H);
    x = layerNorm(g.op('Add', [ffnOut, x]), `${p}.output.LayerNorm`);
  }

  // ---- mean pooling over attended tokens, then L2 normalisation
  const mask3 = g.op('Unsqueeze', [maskF, g.int64Init('const.axes_2', [1], [2n])]); // [B,S,1]
  const axis1 = g.int64Init('const.axes_1', [1], [1n]);
  const summed = g.op('ReduceSum', [g.op('Mul', [x, mask3]), axis1], { keepdims: { kind: 'int', value: 0 } }); // [B,H]
  const counts = g.op('ReduceSum', [mask3, axis1], { keepdims: { kind: 'int', value: 0 } }); // [B,1]
  const mean = g.op('Div', [summed, g.op('Max', [counts, g.floatInit('const.min_count', [], [1e-9])])]);
  const sq = g.op('ReduceSum', [g.op('Mul', [mean, mean]), axis1], { keepdims: { kind: 'int', value: 1 } });
  const norm = g.op('Max', [g.op('Sqrt', [sq]), g.floatInit('const.min_norm', [], [1e-12])]);
  g.op('Div', [mean, norm], {}, undefined, 'embeddings');

  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    producerName: 'ingest-service bert-graph.builder',
    opsets: [
      { domain: '', version: ONNX_OPSET },
      ...(options.quantize ? [{ domain: 'com.microsoft', version: 1 }] : []),
    ],
    graph: {
      name: 'bert_sentence_encoder',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: 'input_ids', elemType: OnnxDataType.INT64, shape: ['batch', 'sequence'] },
        { name: 'attention_mask', elemType: OnnxDataType.INT64, shape: ['batch', 'sequence'] },
      ],
      outputs: [{ name: 'embeddings', elemType: OnnxDataType.FLOAT, shape: ['batch', H] }],
    },
  });
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;

  init(t: OnnxTensor): string {
    this.initializers.push(t);
    return t.name;
  }

  floatInit(name: string, dims: number[], data: ArrayLike<number>): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.init({ name, dataType: OnnxDataType.FLOAT, dims, raw: bytesOf(arr) });
  }

  int64Init(name: string, dims: number[], data: bigint[]): string {
    return this.init({ name, dataType: OnnxDataType.INT64, dims, raw: bytesOf(BigInt64Array.from(data)) });
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, domain?: string, output?: string): string {
    const id = this.counter++;
    const out = output ?? `${opType.toLowerCase()}_${id}`;
    this.nodes.push({ opType, inputs, outputs: [out], name: `${opType}_${id}`, domain, attributes });
    return out;
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Row-major [rows, cols] → [cols, rows]. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[base + c];
  }
  return out;
}

/** Symmetric per-column int8 quantisation of a row-major [rows, cols] matrix. */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number): { values: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]);
      if (a > scales[c]) scales[c] = a;
    }
  }
  for (let c = 0; c < cols; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1;
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = Math.round(w[r * cols + c] / scales[c]);
      values[r * cols + c] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { values, scales };
}
