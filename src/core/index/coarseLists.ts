/**
 * Store-wide inverted lists (IVF) for the dense path of a large store: one set of k-means
 * centroids over every shard's vectors, and for each shard the list each of its rows belongs to.
 * A query scores the centroids, then only the rows of the `probes` nearest lists, in every shard.
 *
 * Why store-wide and not one set per shard: a shard holds whatever was indexed together, a thin
 * slice of every subject of the workspace, so lists trained inside one shard of ~2k vectors find
 * little structure. Their measured probe counts covered most lists and the search scanned nearly
 * everything, slower than a plain scan. Centroids trained over the whole store put a subject's
 * chunks from every shard into the same list.
 *
 * How many lists a query probes is measured, not chosen: queries near sampled rows of the store
 * (calibrateProbes), their exact ten nearest neighbours found on the codes of the whole store, and
 * the probe count the smallest that reaches IVF_CALIBRATION_RECALL of them. Data without structure
 * needs most lists; the store then scans everything (exact) rather than pay for the lists.
 *
 * lists.bin (derived data, rebuilt when missing or damaged): magic, a JSON header (dimensions,
 * lists, probes, trainedOn, and the shards covered with their row counts), the centroids
 * (Float32, lists × dimensions), each covered shard's list per row (Uint16, in header order), and
 * a SHA-1 of everything before it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  IVF_CALIBRATION_QUERIES,
  IVF_CALIBRATION_RECALL,
  IVF_KMEANS_ITERATIONS,
  IVF_KMEANS_SAMPLE,
  IVF_MAX_LISTS,
  IVF_SAMPLE_PER_LIST,
} from '../limits';
import { atomicWriteFile } from '../storage/atomicFile';
import { MemgptError } from '../base/errors';
import type { TimeSlice } from './slice';

/** One set of centroids (unit rows) and the probe count measured for it. */
export interface CoarseLists {
  lists: number;
  dimensions: number;
  centroids: Float32Array;
  probes: number;
  /** Shard rows in the store when the centroids were trained (retrained as the store grows). */
  trainedOn: number;
  /** ... and when the probe count was measured (measured again as the store grows). */
  calibratedOn: number;
}

/** Where the rows of one shard fall: `rows[offsets[c] … offsets[c+1])` are the rows of list c. */
export interface ShardAssignment {
  of: CoarseLists;
  listOf: Uint16Array;
  offsets: Uint32Array;
  rows: Uint32Array;
}

/** What the lists are built from: a shard's int8 codes and scales (value ≈ code × scale). */
export interface CodeRows {
  codes: Int8Array;
  scales: Float32Array;
  n: number;
  dead?: Uint8Array;
}

export class CorruptListsError extends MemgptError {
  constructor(message: string) {
    super('corrupt_file', message);
  }
}

const MAGIC = 'MGPTIVF1';

/** About √n lists, so a list holds about √n rows (a query's cost is probes·√n + n/√n·probes). */
export function listCountFor(n: number): number {
  return Math.max(1, Math.min(IVF_MAX_LISTS, Math.round(Math.sqrt(n))));
}

/** A small deterministic generator (the same store always gets the same lists). */
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

/** Four independent sums: one sum is bound by the latency of each addition. */
function dot(a: Float32Array, ao: number, b: Float32Array | Float64Array, bo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += a[ao + d]! * b[bo + d]!;
    s1 += a[ao + d + 1]! * b[bo + d + 1]!;
    s2 += a[ao + d + 2]! * b[bo + d + 2]!;
    s3 += a[ao + d + 3]! * b[bo + d + 3]!;
  }
  for (; d < dim; d++) s0 += a[ao + d]! * b[bo + d]!;
  return s0 + s1 + s2 + s3;
}

function decodeRow(src: CodeRows, row: number, dim: number, out: Float32Array | Float64Array, at: number): void {
  const scale = src.scales[row]!;
  const from = row * dim;
  for (let d = 0; d < dim; d++) out[at + d] = src.codes[from + d]! * scale;
}

function nearestCentroid(centroids: Float32Array, lists: number, row: Float32Array | Float64Array, ro: number, dim: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < lists; c++) {
    const s = dot(centroids, c * dim, row, ro, dim);
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

/** Rows of several shards addressed as one sequence (sampling across the store). */
function locate(sources: readonly CodeRows[]): (i: number) => [CodeRows, number] {
  const starts: number[] = [];
  let total = 0;
  for (const s of sources) {
    starts.push(total);
    total += s.n;
  }
  return (i) => {
    let lo = 0;
    let hi = sources.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return [sources[lo]!, i - starts[lo]!];
  };
}

/**
 * Spherical k-means (cosine assignment) over a sample of the rows of `sources`, decoded from their
 * codes. Sliced: each step checks `slice`; `stop` may throw to abandon the work (the store closing).
 */
export async function trainCoarseLists(
  sources: readonly CodeRows[],
  dim: number,
  lists: number,
  slice: TimeSlice,
  stop: () => void,
): Promise<CoarseLists> {
  const total = sources.reduce((s, x) => s + x.n, 0);
  const k = Math.max(1, Math.min(lists, total));
  const random = mulberry32(total * 2654435761 + dim);
  const at = locate(sources);
  const sampleSize = Math.min(total, Math.max(IVF_KMEANS_SAMPLE, k * IVF_SAMPLE_PER_LIST));
  const sample = new Float32Array(sampleSize * dim);
  // Decoding the sample (4096+ rows) is sliced too: in one piece it held the loop ~45 ms of CPU
  // time on a busy machine.
  for (let s = 0; s < sampleSize; s++) {
    const [src, row] = at(sampleSize === total ? s : Math.floor(random() * total));
    decodeRow(src, row, dim, sample, s * dim);
    if ((s & 63) === 63) {
      stop();
      await slice.check();
    }
  }
  // Start from k distinct sample rows.
  const centroids = new Float32Array(k * dim);
  const order = Array.from({ length: sampleSize }, (_, i) => i);
  for (let c = 0; c < k; c++) {
    const j = c + Math.floor(random() * (sampleSize - c));
    [order[c], order[j]] = [order[j]!, order[c]!];
    centroids.set(sample.subarray(order[c]! * dim, order[c]! * dim + dim), c * dim);
  }
  const sums = new Float64Array(k * dim);
  const counts = new Uint32Array(k);
  for (let iter = 0; iter < IVF_KMEANS_ITERATIONS; iter++) {
    sums.fill(0);
    counts.fill(0);
    for (let s = 0; s < sampleSize; s++) {
      const c = nearestCentroid(centroids, k, sample, s * dim, dim);
      counts[c]!++;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += sample[s * dim + d]!;
      if ((s & 15) === 15) {
        stop();
        await slice.check();
      }
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
  return { lists: k, dimensions: dim, centroids, probes: k, trainedOn: total, calibratedOn: total };
}

/** Rows grouped by list (a counting sort of `listOf`). */
export function groupByList(of: CoarseLists, listOf: Uint16Array): ShardAssignment {
  const offsets = new Uint32Array(of.lists + 1);
  for (let i = 0; i < listOf.length; i++) offsets[listOf[i]! + 1]!++;
  for (let c = 0; c < of.lists; c++) offsets[c + 1]! += offsets[c]!;
  const fill = offsets.slice(0, of.lists);
  const rows = new Uint32Array(listOf.length);
  for (let i = 0; i < listOf.length; i++) rows[fill[listOf[i]!]!++] = i;
  return { of, listOf, offsets, rows };
}

/** Every row of one shard assigned to its nearest centroid, in slices. */
export async function assignShard(of: CoarseLists, src: CodeRows, slice: TimeSlice, stop: () => void): Promise<ShardAssignment> {
  const dim = of.dimensions;
  const listOf = new Uint16Array(src.n);
  const row = new Float64Array(dim);
  for (let i = 0; i < src.n; i++) {
    decodeRow(src, i, dim, row, 0);
    listOf[i] = nearestCentroid(of.centroids, of.lists, row, 0, dim);
    if ((i & 15) === 15) {
      stop();
      await slice.check();
    }
  }
  return groupByList(of, listOf);
}

/** The lists in the order a query should probe them: by `q·centroid`, best first. */
export function probeOrder(query: Float32Array, of: CoarseLists): Uint32Array {
  const dim = of.dimensions;
  const scores = new Float64Array(of.lists);
  for (let c = 0; c < of.lists; c++) scores[c] = dot(of.centroids, c * dim, query, 0, dim);
  return Uint32Array.from({ length: of.lists }, (_, c) => c).sort((a, b) => scores[b]! - scores[a]!);
}

/**
 * The `k` best rows for each of `queries` (row-major, `count` of them) over every shard, on the
 * codes, in one pass (each row is decoded once for all queries): their scores (best first) and
 * lists, `k` per query. `skip[q]` is a row left out of query q's answer.
 */
async function exactTops(
  queries: Float32Array,
  count: number,
  k: number,
  shards: readonly CodeRows[],
  assigned: readonly ShardAssignment[],
  skip: readonly ([CodeRows, number] | undefined)[],
  slice: TimeSlice,
  stop: () => void,
): Promise<{ scores: Float64Array; lists: Uint32Array }> {
  const dim = queries.length / count;
  const scores = new Float64Array(count * k).fill(-Infinity);
  const lists = new Uint32Array(count * k);
  const row = new Float64Array(dim);
  for (let j = 0; j < shards.length; j++) {
    const src = shards[j]!;
    const listOf = assigned[j]!.listOf;
    for (let i = 0; i < src.n; i++) {
      if (src.dead?.[i]) continue;
      decodeRow(src, i, dim, row, 0);
      for (let q = 0; q < count; q++) {
        const v = dot(queries, q * dim, row, 0, dim);
        const base = q * k;
        if (v <= scores[base + k - 1]!) continue;
        const sk = skip[q];
        if (sk && sk[0] === src && sk[1] === i) continue;
        let p = k - 1;
        while (p > 0 && scores[base + p - 1]! < v) {
          scores[base + p] = scores[base + p - 1]!;
          lists[base + p] = lists[base + p - 1]!;
          p--;
        }
        scores[base + p] = v;
        lists[base + p] = listOf[i]!;
      }
      if ((i & 3) === 3) {
        stop();
        await slice.check();
      }
    }
  }
  return { scores, lists };
}

/**
 * The probe count that finds IVF_CALIBRATION_RECALL of the ten nearest neighbours of calibration
 * queries, the neighbours found exactly on the codes of every shard. A question lands near its
 * answer, not on it, so a calibration query is a sampled row moved in a random direction by its
 * distance to its own nearest neighbour (the data's own spacing; a stored row itself as the query
 * would find its neighbours in fewer lists than a real question does). `shards[j]` is assigned by
 * `assigned[j]`.
 */
export async function calibrateProbes(
  of: CoarseLists,
  shards: readonly CodeRows[],
  assigned: readonly ShardAssignment[],
  slice: TimeSlice,
  stop: () => void,
): Promise<number> {
  const neighbours = 10;
  const dim = of.dimensions;
  const total = shards.reduce((s, x) => s + x.n, 0);
  if (of.lists <= 1 || total <= neighbours + 1) return of.lists;
  const random = mulberry32(total * 40503 + of.lists);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const at = locate(shards);
  const count = Math.min(IVF_CALIBRATION_QUERIES, total);
  const members = new Float32Array(count * dim);
  const picked: [CodeRows, number][] = [];
  for (let q = 0; q < count; q++) {
    picked.push(at(Math.floor(random() * total)));
    decodeRow(picked[q]![0], picked[q]![1], dim, members, q * dim);
  }
  const nearest = await exactTops(members, count, 1, shards, assigned, picked, slice, stop);
  const queries = new Float32Array(count * dim);
  for (let q = 0; q < count; q++) {
    const o = q * dim;
    const spacing = Math.sqrt(Math.max(0, 2 - 2 * Math.min(1, nearest.scores[q]!)));
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      queries[o + d] = gaussian();
      norm += queries[o + d]! * queries[o + d]!;
    }
    norm = Math.sqrt(norm);
    let qNorm = 0;
    for (let d = 0; d < dim; d++) {
      queries[o + d] = members[o + d]! + (spacing * queries[o + d]!) / norm;
      qNorm += queries[o + d]! * queries[o + d]!;
    }
    qNorm = Math.sqrt(qNorm);
    for (let d = 0; d < dim; d++) queries[o + d]! /= qNorm;
  }
  const top = await exactTops(queries, count, neighbours, shards, assigned, [], slice, stop);
  const needed: number[] = [];
  for (let q = 0; q < count; q++) {
    const order = probeOrder(queries.subarray(q * dim, (q + 1) * dim), of);
    const rankOfList = new Uint32Array(of.lists);
    order.forEach((c, rank) => (rankOfList[c] = rank));
    for (let p = 0; p < neighbours; p++)
      if (top.scores[q * neighbours + p]! > -Infinity) needed.push(rankOfList[top.lists[q * neighbours + p]!]! + 1);
  }
  if (needed.length === 0) return of.lists;
  needed.sort((a, b) => a - b);
  return Math.min(of.lists, needed[Math.min(needed.length - 1, Math.ceil(IVF_CALIBRATION_RECALL * needed.length) - 1)]!);
}

export const listsPath = (dir: string): string => path.join(dir, 'lists.bin');

interface ListsHeader {
  dimensions: number;
  lists: number;
  probes: number;
  trainedOn: number;
  calibratedOn: number;
  /** `first`: the id of the shard's first record, so that a shard of the same name written after these lists is not mistaken for it. */
  shards: { name: string; count: number; first: string }[];
}

/** Writes lists.bin atomically: the centroids and the assignment of each shard given. */
export async function writeCoarseLists(
  dir: string,
  of: CoarseLists,
  shards: readonly { name: string; first: string; assignment: ShardAssignment }[],
): Promise<void> {
  const header: ListsHeader = {
    dimensions: of.dimensions,
    lists: of.lists,
    probes: of.probes,
    trainedOn: of.trainedOn,
    calibratedOn: of.calibratedOn,
    shards: shards.map((s) => ({ name: s.name, count: s.assignment.listOf.length, first: s.first })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts: Buffer[] = [Buffer.from(MAGIC, 'ascii'), len, json, Buffer.alloc((4 - (json.length % 4)) % 4)];
  parts.push(Buffer.from(of.centroids.buffer, of.centroids.byteOffset, of.centroids.byteLength));
  for (const s of shards) {
    const l = s.assignment.listOf;
    parts.push(Buffer.from(l.buffer, l.byteOffset, l.byteLength));
  }
  const body = Buffer.concat(parts);
  await atomicWriteFile(listsPath(dir), Buffer.concat([body, createHash('sha1').update(body).digest()]));
}

/**
 * Reads lists.bin: the lists and each covered shard's rows (by shard name). undefined when there
 * is none; CorruptListsError when it is damaged or built for other vectors.
 */
export async function readCoarseLists(
  dir: string,
  dimensions: number,
): Promise<{ of: CoarseLists; shards: Map<string, { first: string; listOf: Uint16Array }> } | undefined> {
  let file: Buffer;
  try {
    file = await fs.readFile(listsPath(dir));
  } catch {
    return undefined;
  }
  const fail = (why: string): never => {
    throw new CorruptListsError(`${listsPath(dir)}: ${why}`);
  };
  if (file.length < 32 || file.toString('ascii', 0, 8) !== MAGIC) fail('not an inverted-lists file');
  const body = file.subarray(0, file.length - 20);
  if (
    !createHash('sha1')
      .update(body)
      .digest()
      .equals(file.subarray(file.length - 20))
  )
    fail('checksum mismatch');
  const jsonLen = body.readUInt32LE(8);
  let header: ListsHeader;
  try {
    header = JSON.parse(body.toString('utf8', 12, 12 + jsonLen)) as ListsHeader;
  } catch {
    return fail('unreadable header');
  }
  const { lists, probes, trainedOn, shards } = header;
  if (header.dimensions !== dimensions) fail(`holds ${header.dimensions}-dimensional centroids, expected ${dimensions}`);
  if (!Number.isInteger(lists) || lists < 1 || lists > IVF_MAX_LISTS || !Number.isInteger(probes) || probes < 1 || probes > lists)
    fail('list or probe count out of range');
  if (
    !Array.isArray(shards) ||
    !shards.every((s) => typeof s?.name === 'string' && typeof s.first === 'string' && Number.isInteger(s.count) && s.count >= 0)
  )
    fail('shard table damaged');
  let at = 12 + jsonLen + ((4 - (jsonLen % 4)) % 4);
  const copy = <T extends Float32Array | Uint16Array>(Ctor: new (n: number) => T, count: number, bytesPer: number): T => {
    if (at + count * bytesPer > body.length) fail('truncated');
    const out = new Ctor(count);
    new Uint8Array(out.buffer).set(body.subarray(at, at + count * bytesPer));
    at += count * bytesPer;
    return out;
  };
  const centroids = copy(Float32Array, lists * dimensions, 4);
  const byName = new Map<string, { first: string; listOf: Uint16Array }>();
  for (const s of shards) {
    const listOf = copy(Uint16Array, s.count, 2);
    for (let i = 0; i < listOf.length; i++) if (listOf[i]! >= lists) fail(`shard ${s.name} names a list past the last`);
    byName.set(s.name, { first: s.first, listOf });
  }
  if (at !== body.length) fail(`size ${body.length}, layout says ${at}`);
  const calibratedOn = Number(header.calibratedOn) || 0;
  return { of: { lists, dimensions, centroids, probes, trainedOn: Number(trainedOn) || 0, calibratedOn }, shards: byName };
}
