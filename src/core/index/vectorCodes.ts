/**
 * Compact vectors for the dense path: each vector is stored as int8 codes with one float scale
 * (symmetric, per vector: scale = largest magnitude / 127), a quarter of the Float32 size. A
 * search scores every candidate on the codes, then re-scores the best few on the exact floats
 * (read on demand from the shard's cache file), so the final scores are the float ones.
 * Which candidates a large store scores is chosen by its store-wide lists (coarseLists.ts).
 */
import type { TimeSlice } from './slice';

/** int8 codes of n vectors (row-major) and one scale per vector: value ≈ code × scale. */
export interface VectorCodes {
  codes: Int8Array;
  scales: Float32Array;
}

/** Quantises `n` rows of `vectors` (row-major, `dim` wide). */
export async function quantizeRows(vectors: Float32Array, n: number, dim: number, slice?: TimeSlice): Promise<VectorCodes> {
  const codes = new Int8Array(n * dim);
  const scales = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    quantizeRowInto(vectors, i * dim, dim, codes, i * dim, scales, i);
    if ((i & 255) === 255) await slice?.check();
  }
  return { codes, scales };
}

/** Quantises one row: `codes[to…to+dim)` and `scales[at]`. */
export function quantizeRowInto(
  vectors: Float32Array,
  from: number,
  dim: number,
  codes: Int8Array,
  to: number,
  scales: Float32Array,
  at: number,
): void {
  let max = 0;
  for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(vectors[from + d]!));
  const scale = max / 127;
  scales[at] = scale;
  if (scale === 0) {
    codes.fill(0, to, to + dim);
    return;
  }
  const inv = 1 / scale;
  for (let d = 0; d < dim; d++) codes[to + d] = Math.round(vectors[from + d]! * inv);
}

/**
 * A query prepared for scoring codes: its values as float64 (int8 × float64 products with four
 * independent sums measured fastest in V8, ahead of float32 × float32 and of int32 arithmetic,
 * which must check for overflow), and its non-zero dimensions for sparse queries.
 */
export interface QueryCodes {
  weights: Float64Array;
  /** Scores are weight·code × scale × the row's scale (1: the weights are the query's values). */
  scale: number;
  sparseDims: Int32Array;
  sparseWeights: Float64Array;
}

export function queryCodes(query: Float32Array): QueryCodes {
  const weights = Float64Array.from(query);
  let nonZero = 0;
  for (let d = 0; d < query.length; d++) if (query[d] !== 0) nonZero++;
  const sparseDims = new Int32Array(nonZero);
  const sparseWeights = new Float64Array(nonZero);
  for (let d = 0, j = 0; d < query.length; d++) {
    if (query[d] === 0) continue;
    sparseDims[j] = d;
    sparseWeights[j++] = query[d]!;
  }
  return { weights, scale: 1, sparseDims, sparseWeights };
}

/** Σ weights[d]·codes[offset+d] with four independent sums (× the row's scale for the score). */
export function codeDot(weights: Float64Array, codes: Int8Array, offset: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += weights[d]! * codes[offset + d]!;
    s1 += weights[d + 1]! * codes[offset + d + 1]!;
    s2 += weights[d + 2]! * codes[offset + d + 2]!;
    s3 += weights[d + 3]! * codes[offset + d + 3]!;
  }
  for (; d < dim; d++) s0 += weights[d]! * codes[offset + d]!;
  return s0 + s1 + s2 + s3;
}

/** The same over a query's non-zero dimensions only. */
export function sparseCodeDot(dims: Int32Array, weights: Float64Array, codes: Int8Array, offset: number): number {
  let s = 0;
  for (let j = 0; j < dims.length; j++) s += weights[j]! * codes[offset + dims[j]!]!;
  return s;
}
