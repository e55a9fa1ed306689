/**
 * Retrieval quality on labelled question sets about real packages' source
 * (test/fixtures/retrieval/*.json): recall@5 and MRR for lexical, vector and the
 * two fusions, over all questions and over those without identifiers, per set.
 *
 * axios.json was written alongside the ranking; fastify.json and mobx.json were
 * written before any tuning by someone who had not used them, and are the honest
 * figure. The issue's target (recall@5 ≥ 0.9 overall, ≥ 0.8 without identifiers)
 * is checked on the default ranking over the two independent sets together, and a
 * miss makes the run exit non-zero. A latency line checks the answer too: a fast
 * search that finds the wrong file is not a pass.
 *
 * `npm run bench -- retrieval --misses` lists the questions missed per mode;
 * `--set fastify` runs one set.
 *
 * With MEMGPT_BENCH_MODEL=<folder of a Model2Vec model> (e.g. potion-base-8M), every set is also
 * indexed and scored with that model beside the hashing embedder; the targets stay on the
 * hashing embedder, which is what a user without a downloaded model gets. A throughput line
 * (chunks per second) compares the Model2Vec inference on a tiny model built here (and on the
 * given model) with the hashing embedder, on 40-line chunks of the first set's code.
 *
 * Rerank (issue 16, item 5): the default ranking retrieves 25 hits and the chat model orders the
 * first 20. No chat model is reachable from this machine, so by default the bench runs the real
 * rerank code against the scripted server answering the search's own order: that checks the
 * plumbing (the scores must equal rrf's exactly) and measures its overhead and prompt size, and it
 * says nothing about quality. With MEMGPT_BENCH_RERANK_URL=<OpenAI-compatible /v1 URL> and
 * MEMGPT_BENCH_RERANK_MODEL=<name> (key from OPENAI_API_KEY) the independent sets are scored
 * with that model's reranking beside rrf; that comparison is what decides whether
 * memgpt.search.rerank should be on by default.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalHashEmbedder } from '../src/core/embed/localEmbedder';
import { Model2VecEmbedder } from '../src/core/embed/model2vec';
import type { Embedder } from '../src/core/interfaces/embedder';
import { writeTinyModel2Vec } from '../test/fixtures/tinyModel2Vec';
import { ArchivalIndex, type SearchMode } from '../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../src/core/index/workspaceIndexer';
import { fetchPackage } from './benchCorpus';
import { OpenAIChatModel } from '../src/core/llm/openaiChatModel';
import type { ChatModel } from '../src/core/interfaces/chatModel';
import { rerank } from '../src/core/index/rerank';
import { RERANK_CANDIDATES } from '../src/core/limits';
import { content, startFakeOpenAIServer, type FakeOpenAIServer } from '../test/fixtures/fakeOpenAIServer';

interface Question {
  q: string;
  files: string[];
  identifierFree: boolean;
}
interface QuestionSet {
  package: string;
  version: string;
  root?: string;
  questions: Question[];
}
interface Score {
  recall5: number;
  mrr: number;
  misses: string[];
  n: number;
}

const FIXTURES = path.join(__dirname, '..', 'test', 'fixtures', 'retrieval');
/** The sets written before tuning, on code nobody here had used. */
const INDEPENDENT = new Set(['fastify', 'mobx']);
const MODES: SearchMode[] = ['lexical', 'vector', 'rrf', 'blend'];
const DEFAULT_MODE: SearchMode = 'rrf';
const TARGET_ALL = 0.9;
const TARGET_NO_IDENT = 0.8;

export async function evaluate(index: ArchivalIndex, questions: Question[], mode: SearchMode): Promise<Score> {
  let recall = 0;
  let mrr = 0;
  const misses: string[] = [];
  for (const q of questions) {
    const r = await index.search(q.q, { mode, pageSize: 10, source: 'workspace' });
    const files: string[] = [];
    for (const h of r.hits) if (h.path && !files.includes(h.path)) files.push(h.path);
    const top5 = files.slice(0, 5);
    recall += q.files.filter((f) => top5.includes(f)).length / q.files.length;
    const rank = files.findIndex((f) => q.files.includes(f));
    mrr += rank >= 0 ? 1 / (rank + 1) : 0;
    if (rank < 0 || rank >= 5) misses.push(`${q.q} -> ${files.slice(0, 3).join(', ')}`);
  }
  return { recall5: recall / Math.max(1, questions.length), mrr: mrr / Math.max(1, questions.length), misses, n: questions.length };
}

/** As `evaluate` on the default ranking, with the first hits reordered by `model` (and how long each search took). */
async function evaluateReranked(
  index: ArchivalIndex,
  questions: Question[],
  model: ChatModel,
): Promise<Score & { ms: number[]; fellBack: number }> {
  let recall = 0;
  let mrr = 0;
  let fellBack = 0;
  const misses: string[] = [];
  const ms: number[] = [];
  for (const q of questions) {
    const t = performance.now();
    const r = await index.search(q.q, { mode: DEFAULT_MODE, pageSize: RERANK_CANDIDATES, source: 'workspace' });
    const outcome = await rerank(q.q, r.hits, { model });
    ms.push(performance.now() - t);
    if (!outcome.reranked) fellBack++;
    const files: string[] = [];
    // The first 10 hits, as `evaluate` reads them, so an answer in the search's own order scores exactly the same.
    for (const i of outcome.order.slice(0, 10)) {
      const p = r.hits[i]!.path;
      if (p && !files.includes(p)) files.push(p);
    }
    const top5 = files.slice(0, 5);
    recall += q.files.filter((f) => top5.includes(f)).length / q.files.length;
    const rank = files.findIndex((f) => q.files.includes(f));
    mrr += rank >= 0 ? 1 / (rank + 1) : 0;
    if (rank < 0 || rank >= 5) misses.push(`${q.q} -> ${files.slice(0, 3).join(', ')}`);
  }
  const n = Math.max(1, questions.length);
  return { recall5: recall / n, mrr: mrr / n, misses, n: questions.length, ms, fellBack };
}

/** The rerank model: the one named by MEMGPT_BENCH_RERANK_URL/_MODEL, else the scripted server answering each search's own order. */
async function rerankModel(): Promise<{ model: ChatModel; real: boolean; server?: FakeOpenAIServer }> {
  const url = process.env.MEMGPT_BENCH_RERANK_URL?.trim();
  const name = process.env.MEMGPT_BENCH_RERANK_MODEL?.trim();
  if (url && name) {
    const key = process.env.OPENAI_API_KEY?.trim();
    return { model: new OpenAIChatModel({ baseUrl: url, model: name, ...(key ? { apiKey: key } : {}) }), real: true };
  }
  const server = await startFakeOpenAIServer({
    models: ['identity'],
    responder: (request) => {
      const body = request.body as { messages?: { role: string; content: string }[] } | undefined;
      const user = body?.messages?.find((m) => m.role === 'user')?.content ?? '';
      const shown = [...user.matchAll(/^\[(\d+)\] /gm)].map((m) => Number(m[1]));
      return content(JSON.stringify(shown));
    },
  });
  return { model: new OpenAIChatModel({ baseUrl: server.url, model: 'identity' }), real: false, server };
}

function pooled(scores: Score[]): { recall5: number; mrr: number } {
  const n = scores.reduce((s, x) => s + x.n, 0) || 1;
  return { recall5: scores.reduce((s, x) => s + x.recall5 * x.n, 0) / n, mrr: scores.reduce((s, x) => s + x.mrr * x.n, 0) / n };
}

const f3 = (v: number): string => v.toFixed(3);

async function main(): Promise<void> {
  const only = process.argv.includes('--set') ? process.argv[process.argv.indexOf('--set') + 1] : undefined;
  const verbose = process.argv.includes('--misses');
  const sets = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as QuestionSet)
    .filter((s) => !only || s.package === only);
  const independent: Record<string, { all: Score[]; nid: Score[] }> = {};
  /** The same pooling for the Model2Vec model given in MEMGPT_BENCH_MODEL (reported, not a target). */
  const independentModel: Record<string, { all: Score[]; nid: Score[] }> = {};
  const modelFolder = process.env.MEMGPT_BENCH_MODEL?.trim() || undefined;
  const model = modelFolder ? await Model2VecEmbedder.load(modelFolder) : undefined;
  let latencyFailed = false;
  const reranker = await rerankModel();
  const independentRerank: Record<string, { all: Score[]; nid: Score[] }> = {};
  const rerankMs: number[] = [];
  let rerankFellBack = 0;
  let rerankPlumbingBroken = false;
  for (const set of sets) {
    const pkg = fetchPackage(set.package, set.version);
    const root = set.root ? path.join(pkg, set.root) : pkg;
    if (model) await scoreWithModel(set, root, model, independentModel);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'retrieval-'));
    const archival = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
    const indexer = new WorkspaceIndexer({ roots: [{ name: set.package, path: root }], archival });
    const run = await indexer.indexAll();
    const nid = set.questions.filter((q) => q.identifierFree);
    console.log(
      `\n${set.package}@${set.version}${set.root ? ` (${set.root}/)` : ''}${INDEPENDENT.has(set.package) ? '' : ' [written alongside the ranking]'}: ${run.indexed} files, ${archival.count('workspace')} chunks, index ${run.ms} ms, ${set.questions.length} questions (${nid.length} without identifiers)`,
    );
    console.log('mode     | recall@5 all | MRR all | recall@5 no-ident | MRR no-ident');
    for (const mode of MODES) {
      const all = await evaluate(archival, set.questions, mode);
      const n = await evaluate(archival, nid, mode);
      console.log(
        `${mode.padEnd(8)} | ${f3(all.recall5).padStart(12)} | ${f3(all.mrr).padStart(7)} | ${f3(n.recall5).padStart(17)} | ${f3(n.mrr).padStart(12)}`,
      );
      if (verbose) for (const m of all.misses) console.log('   miss:', m);
      if (INDEPENDENT.has(set.package)) {
        const slot = (independent[mode] ??= { all: [], nid: [] });
        slot.all.push(all);
        slot.nid.push(n);
      }
    }
    if (INDEPENDENT.has(set.package)) {
      const rr = await evaluateReranked(archival, set.questions, reranker.model);
      const rn = await evaluateReranked(archival, nid, reranker.model);
      const slot = (independentRerank.rerank ??= { all: [], nid: [] });
      slot.all.push(rr);
      slot.nid.push(rn);
      rerankMs.push(...rr.ms);
      rerankFellBack += rr.fellBack;
      console.log(
        `${'rerank'.padEnd(8)} | ${f3(rr.recall5).padStart(12)} | ${f3(rr.mrr).padStart(7)} | ${f3(rn.recall5).padStart(17)} | ${f3(rn.mrr).padStart(12)}  ${reranker.real ? `(${process.env.MEMGPT_BENCH_RERANK_MODEL})` : '(scripted model answering the search order: plumbing only)'}`,
      );
      if (!reranker.real) {
        const base = independent[DEFAULT_MODE]!.all.at(-1)!;
        if (Math.abs(base.recall5 - rr.recall5) > 1e-9 || Math.abs(base.mrr - rr.mrr) > 1e-9) rerankPlumbingBroken = true;
      }
    }
    // Latency, with the answer checked: the first question naming an identifier must find its file in the top 5.
    const probe = set.questions.find((q) => !q.identifierFree) ?? set.questions[0]!;
    const times: number[] = [];
    let found = false;
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await archival.search(probe.q, { pageSize: 5, source: 'workspace' });
      times.push(performance.now() - t);
      found = r.hits.some((h) => h.path !== undefined && probe.files.includes(h.path));
    }
    times.sort((a, b) => a - b);
    const p50 = times[10]!;
    const ok = found && p50 < 50;
    if (!ok) latencyFailed = true;
    console.log(`search p50 ${p50.toFixed(1)} ms (target < 50 ms, answer in the top 5: ${found ? 'yes' : 'no'}): ${ok ? 'MET' : 'MISS'}`);
    await archival.close();
    rmSync(dir, { recursive: true, force: true });
  }
  let missed = latencyFailed;
  if (Object.keys(independent).length > 0) {
    console.log('\nindependent sets pooled (fastify + mobx)');
    console.log('mode     | recall@5 all | MRR all | recall@5 no-ident | MRR no-ident');
    for (const mode of MODES) {
      const s = independent[mode];
      if (!s) continue;
      const all = pooled(s.all);
      const n = pooled(s.nid);
      console.log(
        `${mode.padEnd(8)} | ${f3(all.recall5).padStart(12)} | ${f3(all.mrr).padStart(7)} | ${f3(n.recall5).padStart(17)} | ${f3(n.mrr).padStart(12)}`,
      );
    }
    const d = independent[DEFAULT_MODE];
    if (d) {
      const all = pooled(d.all).recall5;
      const n = pooled(d.nid).recall5;
      const ok = all >= TARGET_ALL && n >= TARGET_NO_IDENT;
      if (!ok) missed = true;
      console.log(
        `default ranking (${DEFAULT_MODE}) recall@5 ${f3(all)} (target ≥ ${TARGET_ALL}), without identifiers ${f3(n)} (target ≥ ${TARGET_NO_IDENT}): ${ok ? 'MET' : 'MISS'}`,
      );
    }
  }
  const rr = independentRerank.rerank;
  if (rr) {
    const all = pooled(rr.all);
    const n = pooled(rr.nid);
    rerankMs.sort((a, b) => a - b);
    const p50 = rerankMs[Math.floor(rerankMs.length / 2)] ?? 0;
    console.log(
      `${'rerank'.padEnd(8)} | ${f3(all.recall5).padStart(12)} | ${f3(all.mrr).padStart(7)} | ${f3(n.recall5).padStart(17)} | ${f3(n.mrr).padStart(12)}`,
    );
    console.log(
      `rerank search + model request p50 ${p50.toFixed(1)} ms; ${rerankFellBack} of ${rerankMs.length} searches kept their own order`,
    );
    if (reranker.real) {
      const base = pooled(independent[DEFAULT_MODE]!.all);
      console.log(
        `rerank by ${process.env.MEMGPT_BENCH_RERANK_MODEL} against ${DEFAULT_MODE}: recall@5 ${f3(all.recall5)} vs ${f3(base.recall5)}, MRR ${f3(all.mrr)} vs ${f3(base.mrr)} (reported, not a target)`,
      );
    } else {
      console.log(
        `rerank quality: NOT MEASURED (no chat model reachable here; set MEMGPT_BENCH_RERANK_URL and MEMGPT_BENCH_RERANK_MODEL). Plumbing with an answer in the search's own order reproduces ${DEFAULT_MODE} exactly: ${rerankPlumbingBroken || rerankFellBack > 0 ? 'MISS' : 'MET'}`,
      );
      if (rerankPlumbingBroken || rerankFellBack > 0) missed = true;
    }
  }
  await reranker.server?.close();
  if (model && Object.keys(independentModel).length > 0) {
    console.log(`\nindependent sets pooled (fastify + mobx), embedder ${model.id}`);
    console.log('mode     | recall@5 all | MRR all | recall@5 no-ident | MRR no-ident');
    for (const mode of MODES) {
      const s = independentModel[mode];
      if (!s) continue;
      const all = pooled(s.all);
      const n = pooled(s.nid);
      console.log(
        `${mode.padEnd(8)} | ${f3(all.recall5).padStart(12)} | ${f3(all.mrr).padStart(7)} | ${f3(n.recall5).padStart(17)} | ${f3(n.mrr).padStart(12)}`,
      );
    }
  }
  const first = sets[0];
  if (first) {
    const pkg = fetchPackage(first.package, first.version);
    if (!(await throughput(first.root ? path.join(pkg, first.root) : pkg, model))) missed = true;
  }
  process.exit(missed ? 1 : 0);
}

/** Indexes one set with the Model2Vec model and prints its scores per mode. */
async function scoreWithModel(
  set: QuestionSet,
  root: string,
  model: Embedder,
  pool: Record<string, { all: Score[]; nid: Score[] }>,
): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retrieval-m2v-'));
  const archival = await ArchivalIndex.open({ dir, embedder: model });
  try {
    const run = await new WorkspaceIndexer({ roots: [{ name: set.package, path: root }], archival }).indexAll();
    const nid = set.questions.filter((q) => q.identifierFree);
    console.log(
      `\n${set.package}@${set.version} with ${model.id}: ${run.indexed} files, ${archival.count('workspace')} chunks, index ${run.ms} ms`,
    );
    console.log('mode     | recall@5 all | MRR all | recall@5 no-ident | MRR no-ident');
    for (const mode of MODES) {
      const all = await evaluate(archival, set.questions, mode);
      const n = await evaluate(archival, nid, mode);
      console.log(
        `${mode.padEnd(8)} | ${f3(all.recall5).padStart(12)} | ${f3(all.mrr).padStart(7)} | ${f3(n.recall5).padStart(17)} | ${f3(n.mrr).padStart(12)}`,
      );
      if (INDEPENDENT.has(set.package)) {
        const slot = (pool[mode] ??= { all: [], nid: [] });
        slot.all.push(all);
        slot.nid.push(n);
      }
    }
  } finally {
    await archival.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Source files under `root` cut into 40-line chunks (node_modules and tests left out). */
function chunksOf(root: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (out.length >= limit) return;
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(js|ts|mjs|cjs|py)$/.test(name)) {
        const lines = readFileSync(p, 'utf8').split('\n');
        for (let i = 0; i < lines.length && out.length < limit; i += 40) out.push(lines.slice(i, i + 40).join('\n'));
      }
    }
  };
  walk(root);
  return out;
}

/**
 * Embedding throughput in chunks per second, the hashing embedder as the baseline of the same run.
 * Target: the Model2Vec inference stays under 1 ms per chunk (the issue's "microseconds per chunk")
 * on the tiny model, whose cost is the tokenizer's; every vector must be unit length (a wrong,
 * fast answer is not a pass).
 */
async function throughput(root: string, model: Model2VecEmbedder | undefined): Promise<boolean> {
  const chunks = chunksOf(root, 2000);
  const tinyDir = mkdtempSync(path.join(os.tmpdir(), 'tiny-m2v-'));
  const tiny = await Model2VecEmbedder.load(writeTinyModel2Vec(path.join(tinyDir, 'tiny')));
  const measure = async (e: Embedder): Promise<{ perSecond: number; unit: boolean }> => {
    await e.embed(chunks.slice(0, 50));
    const t = performance.now();
    const vectors = await e.embed(chunks);
    const ms = performance.now() - t;
    const unit = vectors.every((v) => {
      let n = 0;
      for (const x of v) n += x * x;
      return n === 0 || Math.abs(n - 1) < 1e-3;
    });
    return { perSecond: (1000 * chunks.length) / ms, unit };
  };
  const hash = await measure(new LocalHashEmbedder());
  const small = await measure(tiny);
  console.log(
    `\nembedding throughput on ${chunks.length} chunks of 40 lines: hashing ${hash.perSecond.toFixed(0)} chunks/s; Model2Vec (tiny model) ${small.perSecond.toFixed(0)} chunks/s (${(small.perSecond / hash.perSecond).toFixed(2)}× the hashing embedder)`,
  );
  if (model) {
    const real = await measure(model);
    console.log(
      `Model2Vec (${model.id}) ${real.perSecond.toFixed(0)} chunks/s (${(real.perSecond / hash.perSecond).toFixed(2)}× the hashing embedder), unit vectors: ${real.unit ? 'yes' : 'no'}`,
    );
  }
  rmSync(tinyDir, { recursive: true, force: true });
  const ok = small.unit && small.perSecond >= 1000 && chunks.length > 0;
  console.log(
    `Model2Vec inference ${(1000 / small.perSecond).toFixed(3)} ms per chunk (target < 1 ms, unit vectors: ${small.unit ? 'yes' : 'no'}): ${ok ? 'MET' : 'MISS'}`,
  );
  return ok;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
