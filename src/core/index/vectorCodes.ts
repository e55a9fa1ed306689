/**
 * Compact vectors for the dense path: each vector is stored as int8 codes with one float scale
 * (symmetric, per vector: scale = largest magnitude / 127), a quarter of the Float32 size. A
 * search scores every candidate on the codes, then re-scores the best few on the exact floats
 * (read on demand from the shard's cache file), so the final scores are the float ones.
 *
 * Above a size threshold a shard is also searched through an inverted file (IVF): its vectors
 * are grouped around k-means centroids when the shard is written, and a query scans only the
 * lists whose centroids are nearest (vectorSearch in chunkStore.ts). Every list also records its
 * radius (the largest distance of a member from the list's mean): no member of a list can score
 * more than `q·mean + |q|·radius`, so lists that cannot beat the current candidates are skipped
 * without being read, and lists that could are read even past the minimum probe count.
 */
import { IVF_CALIBRATION_QUERIES, IVF_CALIBRATION_RECALL, IVF_KMEANS_ITERATIONS, IVF_KMEANS_SAMPLE } from '../limits';
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

/**
 * An inverted file over one shard: `lists` centroids, the rows of list j are
 * `rows[offsets[j] … offsets[j+1])`. `means` are the lists' means (unnormalised: the bound
 * needs the true mean) and `radii` the largest distance of a member from its list's mean.
 */
export interface InvertedLists {
  lists: number;
  means: Float32Array;
  radii: Float32Array;
  offsets: Uint32Array;
  rows: Uint32Array;
}

/** A small deterministic generator (the same shard always gets the same lists). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dotAt(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += a[ao + d]! * b[bo + d]!;
  return s;
}

/** Lists for a shard of `n` vectors: about √n, so a list holds about √n vectors. */
export function listCountFor(n: number): number {
  return Math.max(1, Math.round(Math.sqrt(n)));
}

/**
 * Spherical k-means (cosine assignment) over `n` unit rows, trained on a sample, then every row
 * assigned to its nearest centroid. Zero rows go to list 0. Sliced: each step checks `slice`.
 */
export async function buildInvertedLists(
  vectors: Float32Array,
  n: number,
  dim: number,
  lists: number,
  slice?: TimeSlice,
): Promise<InvertedLists> {
  const k = Math.max(1, Math.min(lists, n));
  const random = mulberry32(n * 2654435761 + dim);
  const sampleSize = Math.min(n, IVF_KMEANS_SAMPLE);
  const sample = new Uint32Array(sampleSize);
  if (sampleSize === n) for (let i = 0; i < n; i++) sample[i] = i;
  else for (let i = 0; i < sampleSize; i++) sample[i] = Math.floor(random() * n);
  // Start from k distinct sample rows.
  const centroids = new Float32Array(k * dim);
  const picked = new Set<number>();
  for (let c = 0; c < k; c++) {
    let row = sample[Math.floor(random() * sampleSize)]!;
    for (let tries = 0; picked.has(row) && tries < 8; tries++) row = sample[Math.floor(random() * sampleSize)]!;
    picked.add(row);
    centroids.set(vectors.subarray(row * dim, row * dim + dim), c * dim);
  }
  const nearest = (row: number): number => {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      const s = dotAt(vectors, row * dim, centroids, c * dim, dim);
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    return best;
  };
  const sums = new Float64Array(k * dim);
  const counts = new Uint32Array(k);
  for (let iter = 0; iter < IVF_KMEANS_ITERATIONS; iter++) {
    sums.fill(0);
    counts.fill(0);
    for (let s = 0; s < sampleSize; s++) {
      const row = sample[s]!;
      const c = nearest(row);
      counts[c]!++;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += vectors[row * dim + d]!;
      if ((s & 63) === 63) await slice?.check();
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue; // an empty centroid keeps its place
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += sums[c * dim + d]! * sums[c * dim + d]!;
      norm = Math.sqrt(norm);
      if (norm === 0) continue;
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d]! / norm;
    }
  }
  // Assign every row, then lay the lists out contiguously.
  const assign = new Uint32Array(n);
  const sizes = new Uint32Array(k);
  for (let i = 0; i < n; i++) {
    const c = nearest(i);
    assign[i] = c;
    sizes[c]!++;
    if ((i & 63) === 63) await slice?.check();
  }
  const offsets = new Uint32Array(k + 1);
  for (let c = 0; c < k; c++) offsets[c + 1] = offsets[c]! + sizes[c]!;
  const fill = offsets.slice(0, k);
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[fill[assign[i]!]!++] = i;
  // Means and radii, for the bound.
  const means = new Float32Array(k * dim);
  const radii = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    const from = offsets[c]!;
    const to = offsets[c + 1]!;
    if (to === from) continue;
    for (let p = from; p < to; p++) {
      const row = rows[p]!;
      for (let d = 0; d < dim; d++) means[c * dim + d]! += vectors[row * dim + d]!;
    }
    for (let d = 0; d < dim; d++) means[c * dim + d]! /= to - from;
    let r2 = 0;
    for (let p = from; p < to; p++) {
      const row = rows[p]!;
      let s = 0;
      for (let d = 0; d < dim; d++) {
        const x = vectors[row * dim + d]! - means[c * dim + d]!;
        s += x * x;
      }
      r2 = Math.max(r2, s);
    }
    // float32 rounding of the mean: widen a little so the bound stays a bound
    radii[c] = Math.sqrt(r2) * (1 + 1e-4) + 1e-6;
    await slice?.check();
  }
  return { lists: k, means, radii, offsets, rows };
}

/** The lists in the order a query should probe them: by `q·mean`, best first. */
export function probeOrder(query: Float32Array, ivf: InvertedLists, dim: number): { order: Uint32Array; scores: Float64Array } {
  const scores = new Float64Array(ivf.lists);
  for (let c = 0; c < ivf.lists; c++) scores[c] = dotAt(query, 0, ivf.means, c * dim, dim);
  const order = Uint32Array.from({ length: ivf.lists }, (_, c) => c).sort((a, b) => scores[b]! - scores[a]!);
  return { order, scores };
}

/**
 * The number of lists a query must probe to find IVF_CALIBRATION_RECALL of the ten nearest
 * neighbours of sampled members of this shard (each member left out of its own answer). Data
 * without cluster structure (random vectors) needs nearly every list, and gets it: the inverted
 * lists then save nothing, but lose nothing either.
 */
export async function calibrateProbes(
  vectors: Float32Array,
  n: number,
  dim: number,
  ivf: InvertedLists,
  slice?: TimeSlice,
): Promise<number> {
  const neighbours = 10;
  if (ivf.lists <= 1 || n <= neighbours + 1) return ivf.lists;
  const random = mulberry32(n * 40503 + ivf.lists);
  const listOf = new Uint32Array(n);
  for (let c = 0; c < ivf.lists; c++) for (let p = ivf.offsets[c]!; p < ivf.offsets[c + 1]!; p++) listOf[ivf.rows[p]!] = c;
  const needed: number[] = [];
  const queries = Math.min(IVF_CALIBRATION_QUERIES, n);
  const scores = new Float64Array(n);
  for (let s = 0; s < queries; s++) {
    const qRow = Math.floor(random() * n);
    const query = vectors.subarray(qRow * dim, qRow * dim + dim);
    for (let i = 0; i < n; i++) scores[i] = i === qRow ? -Infinity : dotAt(query, 0, vectors, i * dim, dim);
    const top = Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => scores[b]! - scores[a]!)
      .slice(0, neighbours);
    const { order } = probeOrder(query, ivf, dim);
    const rankOfList = new Uint32Array(ivf.lists);
    order.forEach((c, rank) => (rankOfList[c] = rank));
    for (const row of top) needed.push(rankOfList[listOf[row]!]! + 1);
    await slice?.check();
  }
  needed.sort((a, b) => a - b);
  return Math.min(ivf.lists, needed[Math.min(needed.length - 1, Math.ceil(IVF_CALIBRATION_RECALL * needed.length) - 1)]!);
}
