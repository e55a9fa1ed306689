/**
 * Retrieval quality on a labelled question set about a real package's source
 * (test/fixtures/retrieval/axios.json): recall@5 and MRR for lexical, vector
 * and the two fusions, over all questions and over those without identifiers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalHashEmbedder } from '../src/core/embed/localEmbedder';
import { ArchivalIndex, type SearchMode } from '../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../src/core/index/workspaceIndexer';
import { fetchPackage } from './benchCorpus';

interface Question { q: string; files: string[]; identifierFree: boolean }
interface QuestionSet { package: string; version: string; questions: Question[] }

export async function evaluate(index: ArchivalIndex, questions: Question[], mode: SearchMode): Promise<{ recall5: number; mrr: number; misses: string[] }> {
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
  return { recall5: recall / questions.length, mrr: mrr / questions.length, misses };
}

async function main(): Promise<void> {
  const set = JSON.parse(readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'retrieval', 'axios.json'), 'utf8')) as QuestionSet;
  const root = fetchPackage(set.package, set.version);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'retrieval-'));
  const archival = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  const indexer = new WorkspaceIndexer({ roots: [{ name: set.package, path: root }], archival });
  const run = await indexer.indexAll();
  console.log(`${set.package}@${set.version}: ${run.indexed} files, ${archival.count('workspace')} chunks, ${set.questions.length} questions (${set.questions.filter((q) => q.identifierFree).length} without identifiers)`);
  console.log('mode     | recall@5 all | MRR all | recall@5 no-ident | MRR no-ident');
  const verbose = process.argv.includes('--misses');
  for (const mode of ['lexical', 'vector', 'rrf', 'blend'] as SearchMode[]) {
    const all = await evaluate(archival, set.questions, mode);
    const nid = await evaluate(archival, set.questions.filter((q) => q.identifierFree), mode);
    console.log(`${mode.padEnd(8)} | ${all.recall5.toFixed(3).padStart(12)} | ${all.mrr.toFixed(3).padStart(7)} | ${nid.recall5.toFixed(3).padStart(17)} | ${nid.mrr.toFixed(3).padStart(12)}`);
    if (verbose) for (const m of all.misses) console.log('   miss:', m);
  }
  await archival.close();
  rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) void main();
