import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorCode } from '../../../src/core/base/errors';
import { Model2VecEmbedder } from '../../../src/core/embed/model2vec';
import { ModelFileError, readSafetensors } from '../../../src/core/embed/safetensors';
import { tokenizerFromJson } from '../../../src/core/embed/tokenizer';
import { safetensorsBytes, TINY_VOCAB, tinyRow, tinyTokenizerJson, writeTinyModel2Vec } from '../../fixtures/tinyModel2Vec';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'memgpt-m2v-'));
const cos = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const id = (t: string): number => TINY_VOCAB.indexOf(t);

/** The normalised mean of the rows of `tokens`, computed by hand. */
function expectedVector(tokens: string[], weight: (t: string) => number = () => 1): number[] {
  const sum = [0, 0, 0, 0];
  for (const t of tokens) tinyRow(t).forEach((x, d) => (sum[d]! += (weight(t) * x) / tokens.length));
  const norm = Math.hypot(...sum);
  return sum.map((x) => x / norm);
}

function assertClose(actual: Float32Array, expected: number[], eps = 1e-6): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((x, i) => assert.ok(Math.abs(actual[i]! - x) < eps, `dim ${i}: ${actual[i]} vs ${x}`));
}

test('WordPiece tokenizer follows BERT rules: lowercase, accents, punctuation split, longest match, ## pieces, unknown words', () => {
  const tok = tokenizerFromJson(tinyTokenizerJson());
  // Lowercased, punctuation its own word, "files" = file + ##s.
  assert.deepEqual(tok.encode('Read FILES.'), [id('read'), id('file'), id('##s'), id('.')]);
  // Accents stripped (strip_accents null follows lowercase), control characters dropped, tabs are spaces.
  assert.deepEqual(tok.encode('Café\u0000\tdisk'), [id('cafe'), id('disk')]);
  // Greedy longest match: "unable" = un + ##able; "unknown" = un + ##known.
  assert.deepEqual(tok.encode('unable unknown'), [id('un'), id('##able'), id('un'), id('##known')]);
  // A word with a piece the vocabulary cannot spell is one [UNK] as a whole.
  assert.deepEqual(tok.encode('filez (path)'), [id('[UNK]'), id('('), id('path'), id(')')]);
  // Chinese characters are words of their own (and unknown here).
  assert.deepEqual(tok.encode('file中disk'), [id('file'), id('[UNK]'), id('disk')]);
  // Plain ASCII takes a faster path; it must split exactly as the per-character rules do.
  const code = 'read_file(path) {\n\tload.disk[0]; $a ~ b`un#able\r\n}';
  assert.deepEqual(tok.encode(`${code} ü`), [...tok.encode(code), id('[UNK]')]);
  assert.deepEqual(tok.encode(code), [
    id('read'),
    id('[UNK]'),
    id('file'),
    id('('),
    id('path'),
    id(')'),
    id('[UNK]'),
    id('load'),
    id('.'),
    id('disk'),
    id('[UNK]'),
    id('[UNK]'),
    id('[UNK]'),
    id('[UNK]'),
    id('[UNK]'),
    id('a'),
    id('[UNK]'),
    id('[UNK]'),
    id('[UNK]'),
    id('un'),
    id('[UNK]'),
    id('[UNK]'),
    id('[UNK]'),
  ]);
  assert.equal(tok.unkId, id('[UNK]'));
  assert.equal(tok.vocabSize, TINY_VOCAB.length);
});

test('Unigram and byte-level BPE tokenizers segment as their formats say', () => {
  const uni = tokenizerFromJson({
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: {
      type: 'Unigram',
      unk_id: 0,
      vocab: [
        ['<unk>', 0],
        ['▁', -2],
        ['▁read', -1],
        ['▁re', -3],
        ['ad', -3],
        ['▁file', -1.5],
        ['s', -2],
        ['f', -4],
        ['i', -4],
        ['l', -4],
        ['e', -4],
      ],
    },
  });
  // "▁read" (-1) beats "▁re"+"ad" (-6); "▁files" = "▁file" + "s"; "x" is not covered: <unk>.
  assert.deepEqual(uni.encode('read files x'), [2, 5, 6, 1, 0]);
  const bpe = tokenizerFromJson({
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
    model: {
      type: 'BPE',
      vocab: { r: 0, e: 1, a: 2, d: 3, re: 4, read: 5, Ġ: 6, Ġr: 7, Ġread: 8, ad: 9 },
      merges: ['r e', 'a d', 're ad', 'Ġ r', 'Ġr ead', 'e ad'],
    },
  });
  // Merges apply by rank: r+e (0), a+d (1), re+ad (2). In " read" the space is the byte "Ġ", and
  // "Ġ r" (rank 3) never applies because "r e" ranks first and takes the "r".
  assert.deepEqual(bpe.encode('read'), [5]);
  assert.deepEqual(bpe.encode('read read'), [5, 6, 5]);
});

test('an unsupported tokenizer part is refused with a code, never run approximately', () => {
  const json = { ...tinyTokenizerJson(), pre_tokenizer: { type: 'SomethingNew' } };
  assert.throws(
    () => tokenizerFromJson(json),
    (e: unknown) => e instanceof ModelFileError && e.code === 'model_unsupported' && /SomethingNew/.test(e.message),
  );
});

test('Model2Vec embedder: vectors are the normalised mean of the token rows (F32, F16, per-token weights)', async () => {
  const dir = writeTinyModel2Vec(path.join(tmp(), 'tiny-model'));
  try {
    const e = await Model2VecEmbedder.load(dir);
    assert.equal(e.dimensions, 4);
    assert.match(e.id, /^model2vec:tiny-model:4:[0-9a-f]{12}$/);
    const [v, empty, unk] = await e.embed(['Read the files', '', 'zzz qqq']);
    // read, the, file, ##s — the unknown token never counts.
    assertClose(v!, expectedVector(['read', 'the', 'file', '##s']));
    assert.ok(Math.abs(cos(v!, v!) - 1) < 1e-6);
    assert.ok(empty!.every((x) => x === 0));
    assert.ok(
      unk!.every((x) => x === 0),
      'only unknown words: a zero vector, not the [UNK] row',
    );
    assertClose(e.embedOne('load disk, path'), expectedVector(['load', 'disk', ',', 'path']));

    const half = await Model2VecEmbedder.load(writeTinyModel2Vec(path.join(tmp(), 'tiny-f16'), { dtype: 'F16' }));
    assertClose(half.embedOne('Read the files'), expectedVector(['read', 'the', 'file', '##s']), 2e-3);

    const weights = TINY_VOCAB.map((t) => (t === 'the' ? 0.1 : 1));
    const weighted = await Model2VecEmbedder.load(writeTinyModel2Vec(path.join(tmp(), 'tiny-w'), { weights }));
    assertClose(
      weighted.embedOne('read the file'),
      expectedVector(['read', 'the', 'file'], (t) => (t === 'the' ? 0.1 : 1)),
    );
    assert.notEqual(weighted.id, e.id, 'another model file, another id (another index)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Model2Vec embedder: similar texts score higher than unrelated ones on the tiny vocabulary', async () => {
  const e = await Model2VecEmbedder.load(writeTinyModel2Vec(path.join(tmp(), 'tiny')));
  const [query, files, colours, network] = await e.embed([
    'load a file from disk',
    'read the path of the files',
    'dark colour palette theme',
    'send an http request over a socket',
  ]);
  assert.ok(cos(query!, files!) > 0.9, `file ~ file: ${cos(query!, files!)}`);
  assert.ok(cos(query!, files!) > cos(query!, colours!) + 0.5);
  assert.ok(cos(query!, files!) > cos(query!, network!) + 0.5);
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(e.embed(['x'], ctl.signal));
});

test('a damaged model is a coded error that names the file: missing tokenizer, truncated or corrupt safetensors, mismatched vocabulary', async () => {
  const expectCode = async (dir: string, code: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(Model2VecEmbedder.load(dir), (e: unknown) => {
      assert.equal(errorCode(e), code, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  };
  const noTokenizer = writeTinyModel2Vec(path.join(tmp(), 'm'));
  rmSync(path.join(noTokenizer, 'tokenizer.json'));
  await expectCode(noTokenizer, 'model_file_missing', /has no tokenizer\.json/);

  await expectCode(path.join(tmp(), 'does-not-exist'), 'model_file_missing', /tokenizer\.json/);

  const truncated = writeTinyModel2Vec(path.join(tmp(), 'm'));
  const file = path.join(truncated, 'model.safetensors');
  truncateSync(file, readFileSync(file).length - 7);
  await expectCode(truncated, 'model_file_corrupt', /model\.safetensors.*truncated/);

  const garbage = writeTinyModel2Vec(path.join(tmp(), 'm'));
  writeFileSync(path.join(garbage, 'model.safetensors'), Buffer.from('this is not a safetensors file at all'));
  await expectCode(garbage, 'model_file_corrupt', /model\.safetensors/);

  const badJson = writeTinyModel2Vec(path.join(tmp(), 'm'));
  writeFileSync(path.join(badJson, 'tokenizer.json'), '{"model": ');
  await expectCode(badJson, 'model_file_corrupt', /tokenizer\.json is not valid JSON/);

  const mismatch = writeTinyModel2Vec(path.join(tmp(), 'm'));
  writeFileSync(
    path.join(mismatch, 'model.safetensors'),
    safetensorsBytes({ embeddings: { dtype: 'F32', shape: [5, 4], values: new Array<number>(20).fill(0.5) } }),
  );
  await expectCode(mismatch, 'model_file_corrupt', /different models/);

  const noMatrix = writeTinyModel2Vec(path.join(tmp(), 'm'));
  writeFileSync(path.join(noMatrix, 'model.safetensors'), safetensorsBytes({ other: { dtype: 'F32', shape: [1], values: [1] } }));
  await expectCode(noMatrix, 'model_file_corrupt', /no "embeddings" tensor/);
});

test('safetensors reader: shape must match its bytes, offsets must stay inside the data', () => {
  const ok = safetensorsBytes({
    a: { dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] },
    b: { dtype: 'I32', shape: [2], values: [7, -1] },
  });
  const t = readSafetensors(ok, 'x.safetensors');
  assert.deepEqual(Array.from(t.get('a')!.data), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(t.get('b')!.data), [7, -1]);
  const header = JSON.stringify({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  assert.throws(
    () => readSafetensors(Buffer.concat([len, Buffer.from(header), Buffer.alloc(8)]), 'x.safetensors'),
    /shape \[3\] of F32 \(12 bytes\) but 8 bytes/,
  );
  assert.throws(() => readSafetensors(Buffer.alloc(4), 'x.safetensors'), /shorter than the 8-byte header/);
});
