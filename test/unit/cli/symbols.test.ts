/** `memgpt symbols` on the built binary: tree-sitter and its grammars run from dist/, definitions then references. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { cleanEnv, cliProject, ensureBuilt, runCli } from './cliHarness';

let root: string;
let folder: string;
let env: Record<string, string>;

before(async () => {
  ensureBuilt();
  ({ root, folder } = await cliProject('memgpt-symbols-', {
    'src/billing.ts':
      '/** Sums the invoice lines. */\nexport function computeInvoiceTotal(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\n\nexport class Invoice {\n  total(): number { return computeInvoiceTotal([]); }\n}\n',
    'src/report.go': 'package report\n\n// Render prints the invoice.\nfunc Render() int { return computeInvoiceTotal() }\n',
  }));
  env = cleanEnv({ MEMGPT_STATE_DIR: path.join(root, 'state') });
  const indexed = await runCli(['index', folder], { env });
  assert.equal(indexed.code, 0, indexed.stderr);
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('memgpt symbols: definitions with kind, scope, signature and doc, then references; --json; Class.member; nothing found', async () => {
  const text = await runCli(['symbols', folder, 'computeInvoiceTotal'], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(
    text.stdout,
    'Definitions of computeInvoiceTotal (1):\n  src/billing.ts:2  function computeInvoiceTotal\n      function computeInvoiceTotal(lines: number[]): number\n      Sums the invoice lines.\nReferences (2):\n  src/billing.ts:7\n  src/report.go:4\n',
  );
  const json = await runCli(['symbols', folder, 'Invoice.total', '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { definitions: { kind: string; container: string; path: string; line: number }[] };
  assert.deepEqual(
    parsed.definitions.map((d) => `${d.kind} ${d.container} ${d.path}:${d.line}`),
    ['method Invoice src/billing.ts:7'],
  );
  const none = await runCli(['symbols', folder, 'NoSuchName'], { env });
  assert.equal(none.code, 0);
  assert.match(none.stderr, /No definition or use of "NoSuchName" is indexed/);
  const usage = await runCli(['symbols', folder], { env });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /needs <name>/);
});
