/**
 * A real embedding model, in process, with no server: Model2Vec static embeddings. A folder holds
 * `tokenizer.json` (the Hugging Face tokenizer), `model.safetensors` (one `embeddings` matrix,
 * a row per token; optionally `weights`, a factor per token, and `mapping`, token to row) and
 * `config.json`. A text is tokenized, the rows of its tokens are averaged and the mean is
 * L2-normalised: microseconds per chunk, no native code, no worker.
 *
 * The id carries the model file's SHA-256, so two different models never share an index even
 * when their folders have the same name, and the index rebuilds when the model changes.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Embedder } from '../interfaces/embedder';
import { TimeSlice } from '../index/slice';
import { EMBED_MAX_INPUT_CHARS, MODEL2VEC_MAX_FILE_BYTES, MODEL2VEC_MAX_TOKENS } from '../limits';
import { ModelFileError, readSafetensors } from './safetensors';
import { tokenizerFromJson, type Tokenizer } from './tokenizer';

export const MODEL2VEC_FILES = { tokenizer: 'tokenizer.json', model: 'model.safetensors', config: 'config.json' } as const;

async function readModelFile(folder: string, name: string, optional: boolean): Promise<Buffer | null> {
  const file = path.join(folder, name);
  let size: number;
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    if (optional) return null;
    throw new ModelFileError(
      'model_file_missing',
      `The embedding model folder ${folder} has no ${name}. A Model2Vec model folder holds tokenizer.json and model.safetensors; download the model again or pick another folder.`,
    );
  }
  if (size > MODEL2VEC_MAX_FILE_BYTES) {
    throw new ModelFileError(
      'model_unsupported',
      `The model file ${file} is ${size} bytes, more than the ${MODEL2VEC_MAX_FILE_BYTES} this embedder reads into memory. Use a smaller static model.`,
    );
  }
  return fsp.readFile(file);
}

function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ModelFileError(
      'model_file_corrupt',
      `The model file ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}). Download the model again, or pick another folder.`,
    );
  }
}

export class Model2VecEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;

  private constructor(
    /** Folder name, for people (the id holds the hash). */
    readonly name: string,
    private readonly tokenizer: Tokenizer,
    /** rows × dimensions, row-major. */
    private readonly matrix: Float32Array,
    private readonly rows: number,
    dimensions: number,
    private readonly weights: Float32Array | null,
    private readonly mapping: Int32Array | null,
    modelHash: string,
  ) {
    this.dimensions = dimensions;
    this.id = `model2vec:${name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40)}:${dimensions}:${modelHash.slice(0, 12)}`;
  }

  /** Loads a Model2Vec folder; a missing, damaged or unsupported file is a ModelFileError that names it. */
  static async load(folder: string): Promise<Model2VecEmbedder> {
    const abs = path.resolve(folder);
    const tokenizerBytes = await readModelFile(abs, MODEL2VEC_FILES.tokenizer, false);
    const modelBytes = await readModelFile(abs, MODEL2VEC_FILES.model, false);
    const configBytes = await readModelFile(abs, MODEL2VEC_FILES.config, true);
    const config = configBytes ? parseJson(configBytes, path.join(abs, MODEL2VEC_FILES.config)) : {};
    if (config !== null && typeof config === 'object' && (config as { model_type?: unknown }).model_type !== undefined) {
      const type = (config as { model_type?: unknown }).model_type;
      if (type !== 'model2vec') {
        throw new ModelFileError(
          'model_unsupported',
          `The model in ${abs} is a "${String(type)}" model, not a Model2Vec static model. Pick a Model2Vec model folder (e.g. minishlab/potion-base-8M).`,
        );
      }
    }
    const tokenizer = tokenizerFromJson(parseJson(tokenizerBytes!, path.join(abs, MODEL2VEC_FILES.tokenizer)));
    const modelFile = path.join(abs, MODEL2VEC_FILES.model);
    const tensors = readSafetensors(modelBytes!, modelFile, new Set(['embeddings', 'weights', 'mapping']));
    const embeddings = tensors.get('embeddings');
    if (!embeddings)
      throw new ModelFileError(
        'model_file_corrupt',
        `The model file ${modelFile} has no "embeddings" tensor, so it is not a Model2Vec model. Download the model again, or pick another folder.`,
      );
    if (
      embeddings.shape.length !== 2 ||
      !(embeddings.data instanceof Float32Array) ||
      embeddings.shape[0]! === 0 ||
      embeddings.shape[1]! === 0
    ) {
      throw new ModelFileError(
        'model_file_corrupt',
        `The "embeddings" tensor in ${modelFile} is ${embeddings.dtype} [${embeddings.shape.join(', ')}]; a Model2Vec model has a float matrix [vocabulary × dimensions].`,
      );
    }
    const [rows, dims] = embeddings.shape as [number, number];
    const weightsT = tensors.get('weights');
    const mappingT = tensors.get('mapping');
    const weights = weightsT?.data instanceof Float32Array ? weightsT.data : null;
    const mapping = mappingT?.data instanceof Int32Array ? mappingT.data : null;
    // Every id the tokenizer can produce must have a row: a mismatch means a tokenizer from another model.
    const ids = mapping ? mapping.length : rows;
    if (tokenizer.vocabSize > ids || (weights && weights.length < tokenizer.vocabSize)) {
      throw new ModelFileError(
        'model_file_corrupt',
        `The tokenizer in ${abs} knows ${tokenizer.vocabSize} tokens but the model has rows for ${ids}: the two files come from different models. Download the model again.`,
      );
    }
    if (mapping && mapping.some((r) => r < 0 || r >= rows)) {
      throw new ModelFileError(
        'model_file_corrupt',
        `The "mapping" tensor in ${modelFile} points outside the ${rows} rows of the embeddings.`,
      );
    }
    const hash = createHash('sha256').update(modelBytes!).digest('hex');
    return new Model2VecEmbedder(path.basename(abs), tokenizer, embeddings.data, rows, dims, weights, mapping, hash);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const slice = new TimeSlice();
    for (const text of texts) {
      signal?.throwIfAborted();
      out.push(this.embedOne(text));
      await slice.check();
    }
    return out;
  }

  /** The ids that are averaged: the tokenizer's, without the unknown token (it carries no meaning), capped. */
  tokenIds(text: string): number[] {
    const ids = this.tokenizer.encode(text.length > EMBED_MAX_INPUT_CHARS ? text.slice(0, EMBED_MAX_INPUT_CHARS) : text);
    const unk = this.tokenizer.unkId;
    const kept = unk === undefined ? ids : ids.filter((id) => id !== unk);
    return kept.length > MODEL2VEC_MAX_TOKENS ? kept.slice(0, MODEL2VEC_MAX_TOKENS) : kept;
  }

  /** Synchronous form: one text to its normalised mean vector (zeros when no token is known). */
  embedOne(text: string): Float32Array {
    const dims = this.dimensions;
    const v = new Float32Array(dims);
    const ids = this.tokenIds(text);
    if (ids.length === 0) return v;
    for (const id of ids) {
      const row = this.mapping ? this.mapping[id]! : id;
      if (row >= this.rows) continue;
      const w = this.weights ? this.weights[id]! : 1;
      const base = row * dims;
      for (let d = 0; d < dims; d++) v[d]! += w * this.matrix[base + d]!;
    }
    // The mean's direction is the sum's: normalising the sum gives the normalised mean.
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += v[d]! * v[d]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < dims; d++) v[d]! *= inv;
    }
    return v;
  }
}
