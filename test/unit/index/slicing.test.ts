import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkText, chunkTextSliced } from '../../../src/core/index/chunker';
import { buildStoredPostings, countTerms, packCounts, TermDictionary } from '../../../src/core/index/lexical';
import { TimeSlice } from '../../../src/core/index/slice';

/** ~400 KB of varied source: declarations, blank lines, comments, one minified line. */
function bigSource(): string {
  const out: string[] = [];
  for (let i = 0; i < 4000; i++) {
    if (i % 9 === 0) out.push('');
    if (i % 50 === 0) out.push(`export function handler${i}(request: Request, options: Options = {}) {`);
    out.push(`  const value${i} = compute(${i}, options.limit ?? ${i % 17}); // step ${i} of the pipeline`);
    if (i % 50 === 49) out.push('}');
  }
  out.push('var a=' + Array.from({ length: 3000 }, (_, i) => `f${i}(x)`).join('+') + ';');
  return out.join('\n');
}

test('sliced chunking gives exactly the chunks of chunkText, and gives the event loop turns', async () => {
  const text = bigSource();
  const slice = new TimeSlice(-1); // always due: yields at every pause point
  let immediates = 0;
  const ticker = setInterval(() => immediates++, 0);
  const sliced = await chunkTextSliced('src/big.ts', text, {}, slice);
  clearInterval(ticker);
  const plain = chunkText('src/big.ts', text);
  assert.ok(plain.length > 100, `${plain.length} chunks`);
  assert.deepEqual(sliced, plain);
  assert.ok(slice.yields >= plain.length, `yielded ${slice.yields} times for ${plain.length} chunks`);
  assert.ok(immediates > 0, 'timers ran while the file was being chunked');
});

test('postings built in slices equal postings built at once', async () => {
  const dict = new TermDictionary();
  const docs = Array.from({ length: 300 }, (_, i) =>
    packCounts(countTerms(`function parseHeader${i % 13}(req) { return retryWithBackoff(req, ${i}); }`, dict).counts),
  );
  const slice = new TimeSlice(-1);
  const sliced = await buildStoredPostings(docs, dict, slice);
  const whole = await buildStoredPostings(docs, dict);
  assert.deepEqual(sliced.terms, whole.terms);
  assert.deepEqual([...sliced.offsets], [...whole.offsets]);
  assert.deepEqual([...sliced.docs], [...whole.docs]);
  assert.deepEqual([...sliced.tfs], [...whole.tfs]);
  assert.ok(slice.yields >= 4, `yielded ${slice.yields} times`);
  // every document that contains a term is listed under it
  const t = dict.lookup('backoff')!;
  const local = sliced.terms.indexOf('backoff');
  assert.ok(t !== undefined && local >= 0);
  assert.equal(sliced.offsets[local + 1]! - sliced.offsets[local]!, 300);
});

test('a time slice is due only after its budget', async () => {
  const generous = new TimeSlice(60_000);
  assert.equal(generous.due, false);
  await generous.check();
  assert.equal(generous.yields, 0);
  const spent = new TimeSlice(-1);
  assert.equal(spent.due, true);
  await spent.check();
  assert.equal(spent.yields, 1);
});
