/** Turns text into vectors. Each model has its own id and dimension; indexes are per id. */
export interface Embedder {
  /** Stable id of the model (e.g. `local-hash-v1-384`, `openai:text-embedding-3-small`); names the index. */
  readonly id: string;
  /** Vector length; known before the first call. */
  readonly dimensions: number;
  /** One vector per text, in order, L2-normalised. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}
