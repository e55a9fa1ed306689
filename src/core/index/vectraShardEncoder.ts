/**
 * Writes a shard's Vectra copy (index.pb) in the exact wire format of Vectra's
 * ProtobufCodec (vectra/lib/codecs/schemas/index.proto), one item at a time.
 *
 * Why not `LocalIndex.insertItem` + `endUpdate`: Vectra encodes the whole index in
 * one synchronous protobufjs call (verify, then encode float by float): 2048×384
 * held the event loop 40-60 ms per shard, and loading Vectra for it another
 * ~0.5 s the first time. Protobuf's repeated fields are plain concatenations, so
 * each item is encoded on its own (vectors copied as packed little-endian float32)
 * with time slices in between; the file is still an ordinary Vectra index that
 * `LocalIndex` opens and queries (test/unit/index/vectraShardEncoder.test.ts).
 *
 * Schema (field numbers are the contract):
 *   IndexData     { uint32 version = 1; MetadataConfig metadata_config = 2; repeated IndexItem items = 3; }
 *   MetadataConfig{ repeated string indexed = 1; }
 *   IndexItem     { string id = 1; map<string, MetadataValue> metadata = 2; repeated float vector = 3 [packed]; double norm = 4; }
 *   MetadataValue { oneof value { string string_value = 1; double number_value = 2; bool bool_value = 3; } }
 */
import os from 'node:os';
import type { TimeSlice } from './slice';

export type VectraMetadata = Record<string, string | number | boolean>;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const LITTLE_ENDIAN = os.endianness() === 'LE';

const tag = (field: number, wire: number): number => (field << 3) | wire;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** A cursor over a buffer sized exactly beforehand. */
class Out {
  at = 0;
  constructor(readonly buf: Buffer) {}
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.at++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.at++] = n;
  }
  len(field: number, size: number): void {
    this.varint(tag(field, WIRE_LEN));
    this.varint(size);
  }
  string(field: number, bytes: Buffer): void {
    this.len(field, bytes.length);
    bytes.copy(this.buf, this.at);
    this.at += bytes.length;
  }
  double(field: number, value: number): void {
    this.varint(tag(field, WIRE_FIXED64));
    this.buf.writeDoubleLE(value, this.at);
    this.at += 8;
  }
  floats(field: number, v: Float32Array): void {
    this.len(field, v.length * 4);
    if (LITTLE_ENDIAN) {
      Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(this.buf, this.at);
      this.at += v.byteLength;
    } else {
      for (let i = 0; i < v.length; i++, this.at += 4) this.buf.writeFloatLE(v[i]!, this.at);
    }
  }
}

const lenFieldSize = (size: number): number => 1 + varintSize(size) + size;

interface EncodedValue {
  size: number;
  write(out: Out): void;
}

function metadataValue(value: string | number | boolean): EncodedValue {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return { size: lenFieldSize(bytes.length), write: (out) => out.string(1, bytes) };
  }
  if (typeof value === 'number') return { size: 9, write: (out) => out.double(2, value) };
  return {
    size: 2,
    write: (out) => {
      out.varint(tag(3, WIRE_VARINT));
      out.varint(value ? 1 : 0);
    },
  };
}

/** One IndexItem message (without its field tag and length in IndexData). */
export function encodeVectraItem(id: string, metadata: VectraMetadata, vector: Float32Array): Buffer {
  const idBytes = Buffer.from(id, 'utf8');
  const entries = Object.entries(metadata).map(([key, value]) => {
    const keyBytes = Buffer.from(key, 'utf8');
    const v = metadataValue(value);
    const size = lenFieldSize(keyBytes.length) + lenFieldSize(v.size);
    return { keyBytes, v, size };
  });
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  const size = lenFieldSize(idBytes.length) + entries.reduce((s, e) => s + lenFieldSize(e.size), 0) + lenFieldSize(vector.length * 4) + 9;
  const out = new Out(Buffer.allocUnsafe(size));
  out.string(1, idBytes);
  for (const e of entries) {
    out.len(2, e.size);
    out.string(1, e.keyBytes);
    out.len(2, e.v.size);
    e.v.write(out);
  }
  out.floats(3, vector);
  out.double(4, norm);
  if (out.at !== size) throw new Error(`vectra item encoder: wrote ${out.at} bytes, expected ${size}`);
  return out.buf;
}

/** The whole index.pb: version 1, no indexed metadata fields, then the items. */
export async function encodeVectraIndex(
  count: number,
  item: (i: number) => { id: string; metadata: VectraMetadata; vector: Float32Array },
  slice?: TimeSlice,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  const head = new Out(Buffer.alloc(2 + 2));
  head.varint(tag(1, WIRE_VARINT));
  head.varint(1);
  head.len(2, 0); // an empty MetadataConfig, as Vectra writes it
  parts.push(head.buf.subarray(0, head.at));
  for (let i = 0; i < count; i++) {
    const { id, metadata, vector } = item(i);
    const body = encodeVectraItem(id, metadata, vector);
    const prefix = new Out(Buffer.allocUnsafe(1 + varintSize(body.length)));
    prefix.len(3, body.length);
    parts.push(prefix.buf, body);
    await slice?.check();
  }
  return Buffer.concat(parts);
}
