/** Vectors as pgvector's text literal, through the `pgvector` package (ESM-only: loaded once, lazily). */
let toSqlFn: ((v: number[]) => string | null) | undefined;

export async function vectorLiteral(v: Float32Array): Promise<string> {
  if (!toSqlFn) {
    const mod = await import('pgvector');
    toSqlFn = (x) => mod.toSql(x);
  }
  return toSqlFn(Array.from(v)) ?? '[]';
}
