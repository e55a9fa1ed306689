/**
 * Stands in for the editor in the CLI tests: opens a folder's memory in another process, the way
 * the extension does (owner "VS Code window"), prints READY, and holds the lock until stdin closes.
 * Usage: node --import tsx test/unit/cli/lockHolder.ts <stateDir> <folder>
 */
import * as path from 'node:path';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';

async function main(): Promise<void> {
  const [stateDir, folder] = process.argv.slice(2);
  if (!stateDir || !folder) throw new Error('usage: lockHolder.ts <stateDir> <folder>');
  const runtime = await WorkspaceRuntime.open({
    storageRoot: stateDir,
    folders: [{ name: path.basename(folder), path: folder }],
    trusted: true,
    owner: 'VS Code window',
    config: testRuntimeConfig({ model: 'unused' }),
  });
  if (runtime.readOnly) throw new Error(`lockHolder could not take the lock: ${runtime.storage.readOnlyReason}`);
  process.stdout.write('READY\n');
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.on('end', resolve));
  await runtime.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
