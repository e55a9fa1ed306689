/**
 * A reader for the safetensors format (Hugging Face): an 8-byte little-endian header length, a
 * JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
 * Only what static embeddings need is read: float tensors become Float32Array, integer ones
 * Int32Array. Every inconsistency (a header running past the file, a range outside the data, a
 * shape that does not match its bytes) is a coded error, never a silently wrong matrix.
 */
import { endianness } from 'node:os';
import { MemgptError } from '../base/errors';
import { SAFETENSORS_MAX_HEADER_BYTES } from '../limits';

export type ModelFileErrorCode =
  /** A file the model needs is not in the folder. */
  | 'model_file_missing'
  /** A file is there but damaged or not what the format says (truncated, bad JSON, wrong sizes). */
  | 'model_file_corrupt'
  /** The file is well formed but uses something this reader does not implement. */
  | 'model_unsupported';

/** Why a local model could not be loaded; the message names the file and what to do. */
export class ModelFileError extends MemgptError<ModelFileErrorCode> {}

export interface Tensor {
  dtype: string;
  shape: number[];
  /** Row-major values. */
  data: Float32Array | Int32Array;
}

const LITTLE_ENDIAN = endianness() === 'LE';

const BYTES_PER: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8 };

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function corrupt(file: string, why: string): ModelFileError {
  return new ModelFileError(
    'model_file_corrupt',
    `The model file ${file} is damaged or not a safetensors file: ${why}. Download the model again, or pick another folder.`,
  );
}

function parseEntry(file: string, name: string, v: unknown): HeaderEntry {
  const o = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  const shape = o?.shape;
  const offsets = o?.data_offsets;
  if (
    !o ||
    typeof o.dtype !== 'string' ||
    !Array.isArray(shape) ||
    !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) ||
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
  ) {
    throw corrupt(file, `the header entry for tensor "${name}" lacks a dtype, a shape or data offsets`);
  }
  return { dtype: o.dtype, shape: shape as number[], data_offsets: [offsets[0] as number, offsets[1] as number] };
}

/** Half-precision bits to a number (IEEE 754 binary16). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decode(file: string, name: string, entry: HeaderEntry, bytes: Uint8Array): Float32Array | Int32Array {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (entry.dtype) {
    case 'F32': {
      // On a little-endian machine (every one VS Code runs on) the bytes are the array: one copy, no decoding.
      if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(count);
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        word.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      return out;
    }
    case 'I8':
    case 'U8':
    case 'I16':
    case 'I32':
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        if (entry.dtype === 'I8') out[i] = view.getInt8(i);
        else if (entry.dtype === 'U8') out[i] = view.getUint8(i);
        else if (entry.dtype === 'I16') out[i] = view.getInt16(i * 2, true);
        else if (entry.dtype === 'I32') out[i] = view.getInt32(i * 4, true);
        else out[i] = Number(view.getBigInt64(i * 8, true));
      }
      return out;
    }
    default:
      throw new ModelFileError(
        'model_unsupported',
        `The tensor "${name}" in ${file} has the dtype ${entry.dtype}, which this reader does not support (F32, F16, BF16, F64 and integer types are).`,
      );
  }
}

/**
 * The tensors of a safetensors file held in `buffer`. `file` names it in errors.
 * `wanted` limits decoding to those names (others are only checked).
 */
export function readSafetensors(buffer: Uint8Array, file: string, wanted?: ReadonlySet<string>): Map<string, Tensor> {
  if (buffer.byteLength < 8) throw corrupt(file, `it is ${buffer.byteLength} bytes long, shorter than the 8-byte header length`);
  const headerLength = Number(new DataView(buffer.buffer, buffer.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > SAFETENSORS_MAX_HEADER_BYTES)
    throw corrupt(file, `its header claims ${headerLength} bytes, more than any model header (${SAFETENSORS_MAX_HEADER_BYTES})`);
  if (8 + headerLength > buffer.byteLength)
    throw corrupt(file, `its header claims ${headerLength} bytes but the file ends after ${buffer.byteLength - 8} (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw corrupt(file, `its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw corrupt(file, 'its header is not a JSON object');
  const data = buffer.subarray(8 + headerLength);
  const out = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const entry = parseEntry(file, name, value);
    const [start, end] = entry.data_offsets;
    if (end < start || end > data.byteLength) {
      throw corrupt(file, `tensor "${name}" spans bytes ${start}–${end} but the data section holds ${data.byteLength} (truncated?)`);
    }
    const per = BYTES_PER[entry.dtype];
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (per !== undefined && count * per !== end - start) {
      throw corrupt(
        file,
        `tensor "${name}" has shape [${entry.shape.join(', ')}] of ${entry.dtype} (${count * per} bytes) but ${end - start} bytes of data`,
      );
    }
    if (wanted && !wanted.has(name)) continue;
    out.set(name, { dtype: entry.dtype, shape: entry.shape, data: decode(file, name, entry, data.subarray(start, end)) });
  }
  return out;
}
