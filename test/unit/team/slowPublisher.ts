/**
 * A publisher that takes its time (a batch of chunks, then a pause), run as a child process by
 * the atomic-publish test so that the test can kill it mid-publish with SIGKILL.
 * Env: URL, REPO, COMMIT, MARK (a word in every chunk). Prints "staged" after the first batch.
 */
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { parseConnection, connectTeamStore } from '../../../src/core/team/connection';
import { publishIndex, type PublishChunk, type PublishSource } from '../../../src/core/team/publisher';

const embedder = new LocalHashEmbedder({ dimensions: 16 });
const connection = parseConnection(process.env.URL!);
const files = new Map<string, { hash: string; chunks: number }>();
for (let i = 0; i < 40; i++) files.set(`src/slow${i}.ts`, { hash: `h${i}`, chunks: 1 });
const source: PublishSource = {
  embedderId: embedder.id,
  dimensions: embedder.dimensions,
  files,
  async *batches(): AsyncIterable<PublishChunk[]> {
    const paths = [...files.keys()];
    for (let i = 0; i < paths.length; i += 4) {
      const part = paths.slice(i, i + 4);
      const texts = part.map((p) => `export const ${process.env.MARK} = '${p}';`);
      const vectors = await embedder.embed(texts);
      yield part.map((p, j) => ({
        id: `${p}#1`,
        path: p,
        startLine: 1,
        endLine: 1,
        language: 'typescript',
        hash: `c${i + j}`,
        text: texts[j]!,
        vector: vectors[j]!,
      }));
      if (i === 0) setTimeout(() => process.stdout.write('staged\n'), 50);
      await new Promise((r) => setTimeout(r, 300));
    }
  },
};
void (async () => {
  const client = await connectTeamStore(connection);
  await publishIndex(client, connection, { repoId: process.env.REPO!, commit: process.env.COMMIT!, source });
  process.stdout.write('published\n');
  await client.end();
})();
