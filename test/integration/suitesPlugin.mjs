// esbuild plugin for the in-host test bundle: `virtual:integration-suites` lists every
// test/integration/suite/*.test.ts, each evaluated only when loaded, so `run()` can pick suites by
// file name (synchronously, as mocha's pre-require/require/post-require protocol expects).
// Adding a suite = creating a file there (re-run the build; watch mode needs a restart for new files).
import { readdirSync } from 'node:fs';
import path from 'node:path';

export function integrationSuitesPlugin(root) {
  const suiteDir = path.join(root, 'test/integration/suite');
  return {
    name: 'integration-suites',
    setup(build) {
      build.onResolve({ filter: /^virtual:integration-suites$/ }, () => ({ path: 'integration-suites', namespace: 'integration-suites' }));
      build.onLoad({ filter: /.*/, namespace: 'integration-suites' }, () => {
        const files = readdirSync(suiteDir)
          .filter((f) => f.endsWith('.test.ts'))
          .sort();
        const entries = files.map((f) => `  { file: ${JSON.stringify(f)}, load: () => require(${JSON.stringify('./' + f)}) },`);
        return {
          contents: `export const integrationSuites = [\n${entries.join('\n')}\n];\n`,
          resolveDir: suiteDir,
          loader: 'js',
          watchDirs: [suiteDir],
        };
      });
    },
  };
}
