/** The workspace chunks of a local ArchivalIndex as a publish source (CI indexes locally, then publishes). */
import type { ArchivalIndex } from '../index/archivalIndex';
import type { ChunkRef } from '../index/chunkStore';
import type { PublishChunk, PublishSource } from './publisher';

export function archivalPublishSource(index: ArchivalIndex): PublishSource {
  const store = index.store;
  const files = new Map<string, { hash: string; chunks: number }>();
  for (const p of index.indexedPaths()) {
    const refs = store
      .idsOfPath(p)
      .map((id) => store.get(id))
      .filter((r): r is ChunkRef => r !== undefined && store.record(r).source === 'workspace');
    if (refs.length === 0) continue;
    files.set(p, { hash: store.record(refs[0]!).fileHash, chunks: refs.length });
  }
  return {
    *symbols() {
      for (const [p, f] of files) {
        const known = index.symbols.fileOf(p);
        if (known && known.hash === f.hash) yield { path: p, hash: known.hash, defs: known.defs, refs: known.refs };
      }
    },
    embedderId: index.embedder.id,
    dimensions: index.embedder.dimensions,
    files,
    async *batches(size: number): AsyncIterable<PublishChunk[]> {
      let batch: ChunkRef[] = [];
      const flush = async (): Promise<PublishChunk[]> => {
        const texts = await store.texts(batch);
        const out = batch.map((ref, i) => {
          const r = store.record(ref);
          return {
            id: r.id,
            path: r.path,
            startLine: r.startLine,
            endLine: r.endLine,
            language: r.language,
            hash: r.hash,
            text: texts[i]!,
            ...(r.symbols ? { symbols: r.symbols } : {}),
            vector: store.vector(ref),
          };
        });
        batch = [];
        return out;
      };
      for (const p of files.keys()) {
        for (const id of store.idsOfPath(p)) {
          const ref = store.get(id);
          if (!ref || store.record(ref).source !== 'workspace') continue;
          batch.push(ref);
          if (batch.length >= size) yield await flush();
        }
      }
      if (batch.length > 0) yield await flush();
    },
  };
}
