/**
 * What an embedder id means for search, in words: a real embedding model gives semantic search;
 * the hashing fallback matches words and their parts only, and is named for what it is.
 */
export type EmbedderKind = 'model2vec' | 'openai' | 'hash';

export interface EmbedderDescription {
  kind: EmbedderKind;
  /** True when vectors come from a real embedding model. */
  semantic: boolean;
  /** e.g. "semantic (local model potion-base-8M, 256 dimensions)" or "lexical search only (no embedding model)". */
  label: string;
}

export function describeEmbedder(id: string): EmbedderDescription {
  const local = /^model2vec:([^:]*):(\d+):/.exec(id);
  if (local) return { kind: 'model2vec', semantic: true, label: `semantic (local model ${local[1]}, ${local[2]} dimensions)` };
  const remote = /^openai:(.*):(\d+)@(.*)$/.exec(id);
  if (remote) return { kind: 'openai', semantic: true, label: `semantic (${remote[1]} at ${remote[3]}, ${remote[2]} dimensions)` };
  return { kind: 'hash', semantic: false, label: 'lexical search only (no embedding model)' };
}
