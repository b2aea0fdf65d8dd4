/**
 * Generates a tiny BERT-shaped feature-extraction model for the `transformers` embedder tests, offline
 * and in pure JS (onnx-proto): inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 [batch, seq])
 * → `last_hidden_state` (float [batch, seq, HIDDEN]). Graph: word + token-type embedding lookup,
 * h + tanh(h·W), masked by attention_mask. Weights come from a seeded PRNG, so the model is identical on
 * every run. Written in the layout @xenova/transformers 2.17.2 loads from `env.localModelPath`:
 *
 *   <root>/<name>/config.json, tokenizer.json, tokenizer_config.json,
 *   <root>/<name>/onnx/model.onnx            (pipeline option quantized: false — what the adapter uses)
 *   <root>/<name>/onnx/model_quantized.onnx  (quantized: true, the library default; only with opts.quantized)
 *
 * The "quantized" file is the same float model under the other name: transformers.js only picks the file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

export const HIDDEN = 32;

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const WORDS = (
  ". , ? ! ' - the a an is are was be to of and in on for with how what why when where who do does " +
  'can i you my your it this that cache reset password account email login user delete change update ' +
  'price weather today tomorrow paris france germany berlin capital city country translate english ' +
  'french write poem code python function error bug fix help please order refund ship ' +
  '##s ##ed ##ing ##er ##ly'
).split(' ');

export const VOCAB: readonly string[] = [...SPECIAL, ...WORDS];

/** mulberry32: small deterministic PRNG in [-0.5, 0.5). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function floatTensor(name: string, dims: number[], rand: () => number, scale: number): onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rand() * scale;
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(v.buffer),
  };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Serialised ONNX model bytes (opset 13, IR 7). */
export function tinyBertOnnx(seed = 42): Uint8Array {
  const rand = prng(seed);
  const INT64 = onnx.TensorProto.DataType.INT64;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const axes = new BigInt64Array([2n]);
  const graph: onnx.IGraphProto = {
    name: 'tiny-bert',
    initializer: [
      floatTensor('word_embeddings', [VOCAB.length, HIDDEN], rand, 2),
      floatTensor('token_type_embeddings', [2, HIDDEN], rand, 0.2),
      floatTensor('dense', [HIDDEN, HIDDEN], rand, 0.5),
      { name: 'unsqueeze_axes', dims: [1], dataType: INT64, rawData: new Uint8Array(axes.buffer) },
    ],
    node: [
      { opType: 'Gather', input: ['word_embeddings', 'input_ids'], output: ['we'], name: 'gather_word' },
      {
        opType: 'Gather',
        input: ['token_type_embeddings', 'token_type_ids'],
        output: ['te'],
        name: 'gather_type',
      },
      { opType: 'Add', input: ['we', 'te'], output: ['h0'], name: 'add_emb' },
      { opType: 'MatMul', input: ['h0', 'dense'], output: ['d'], name: 'matmul' },
      { opType: 'Tanh', input: ['d'], output: ['dt'], name: 'tanh' },
      { opType: 'Add', input: ['h0', 'dt'], output: ['h1'], name: 'residual' },
      {
        opType: 'Cast',
        input: ['attention_mask'],
        output: ['maskf'],
        name: 'cast_mask',
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
      },
      { opType: 'Unsqueeze', input: ['maskf', 'unsqueeze_axes'], output: ['mask3'], name: 'unsqueeze_mask' },
      { opType: 'Mul', input: ['h1', 'mask3'], output: ['last_hidden_state'], name: 'apply_mask' },
    ],
    input: [
      valueInfo('input_ids', INT64, ['batch', 'sequence']),
      valueInfo('attention_mask', INT64, ['batch', 'sequence']),
      valueInfo('token_type_ids', INT64, ['batch', 'sequence']),
    ],
    output: [valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', HIDDEN])],
  };
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'kong-llm-plugins spec/support/tiny-onnx.ts',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** WordPiece tokenizer.json (tokenizers format) over VOCAB, BERT normaliser/pre-tokeniser/template. */
export function tinyTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  VOCAB.forEach((t, i) => (vocab[t] = i));
  const id = (t: string): number => vocab[t] ?? 1;
  const special = (t: string): { SpecialToken: { id: string; type_id: number } } => ({
    SpecialToken: { id: t, type_id: 0 },
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [
        special('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

export interface TinyModel {
  /** Root to pass as `options.model_dir` (env.localModelPath). */
  root: string;
  /** Model folder name to pass as `name`. */
  name: string;
  /** Folder holding config.json, tokenizer files and onnx/. */
  dir: string;
  /** Size of onnx/model.onnx in bytes. */
  onnxBytes: number;
}

/** Writes the tiny model into `<root>/<name>/`. */
export function writeTinyModel(
  root: string,
  name = 'tiny-bert',
  opts: { quantized?: boolean; seed?: number } = {},
): TinyModel {
  const dir = join(root, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const bytes = tinyBertOnnx(opts.seed);
  writeFileSync(join(dir, 'onnx', 'model.onnx'), bytes);
  if (opts.quantized) writeFileSync(join(dir, 'onnx', 'model_quantized.onnx'), bytes);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 128,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
    }),
  );
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertModel'],
      hidden_size: HIDDEN,
      vocab_size: VOCAB.length,
      type_vocab_size: 2,
      max_position_embeddings: 128,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      pad_token_id: 0,
    }),
  );
  return { root, name, dir, onnxBytes: bytes.length };
}
