// `npm run format`: formats the repository with Prettier (what the "format" step of `npm test` checks).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLintDependencies } from '../test/harness/bootstrap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
console.log(ensureLintDependencies(root));
const prettier = path.join(root, 'tools', 'lint', 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const r = spawnSync(process.execPath, [prettier, '--write', '--log-level=warn', '.'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
