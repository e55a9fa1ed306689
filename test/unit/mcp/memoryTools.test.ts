/**
 * The memory tools' single declaration: package.json's `languageModelTools` equal it, arguments
 * are checked against it before anything runs, and results are bounded and honest (an in-memory
 * port stands in for the runtime).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ArchivalHit } from '../../../src/core/interfaces/archivalStore';
import {
  MEMORY_TOOLS,
  MemoryToolError,
  callMemoryTool,
  languageModelToolContribution,
  type MemoryToolsPort,
} from '../../../src/core/mcp/memoryTools';
import { MEMORY_TOOL_RESULT_MAX_CHARS } from '../../../src/core/limits';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { languageModelTools?: unknown[]; mcpServerDefinitionProviders?: { id: string; label: string }[] };
};

function port(overrides: Partial<MemoryToolsPort> = {}): MemoryToolsPort & { notes: string[] } {
  const notes: string[] = [];
  return {
    notes,
    searchArchival: async () => [],
    findSymbol: async () => ({ definitions: [], references: [], moreReferences: 0 }),
    searchConversation: async () => ({ records: [], total: 0, page: 0, pageCount: 0 }),
    coreMemory: async () => ({ agent: { id: 'a1', name: 'Agent' }, blocks: [{ label: 'human', value: 'Prefers tabs.', limit: 2000 }] }),
    rememberNote: async (text) => (notes.push(text), `m${notes.length}`),
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof MemoryToolError && e.code === code && pattern.test(e.message));
}

test('mcp tools: package.json contributes exactly the declared tools, and the MCP server definition provider', () => {
  assert.deepEqual(manifest.contributes.languageModelTools, MEMORY_TOOLS.map(languageModelToolContribution));
  assert.deepEqual(manifest.contributes.mcpServerDefinitionProviders, [{ id: 'memgpt.memory', label: 'MemGPT memory' }]);
  assert.deepEqual(
    MEMORY_TOOLS.filter((t) => t.writes).map((t) => t.name),
    ['archival_memory_insert'],
    'only remembering writes',
  );
  for (const t of MEMORY_TOOLS) {
    assert.equal(t.lmToolName, `memgpt_${t.name}`);
    assert.equal(t.inputSchema.additionalProperties, false, `${t.name} refuses unknown arguments`);
    for (const [key, prop] of Object.entries(t.inputSchema.properties))
      assert.ok((prop.description ?? '').length > 10, `${t.name}.${key} is described`);
  }
});

test('mcp tools: arguments are checked before the memory is touched', async () => {
  let searched = 0;
  const p = port({ searchArchival: async () => (searched++, []) });
  await rejectsWith(callMemoryTool(p, 'nope', {}), 'unknown_tool', /There is no tool "nope"\. Tools: archival_memory_search/);
  await rejectsWith(callMemoryTool(p, 'archival_memory_search', [1]), 'invalid_arguments', /expected an object, got an array/);
  await rejectsWith(callMemoryTool(p, 'archival_memory_search', { query: 'x', k: 2.5 }), 'invalid_arguments', /"k" must be a whole number/);
  await rejectsWith(
    callMemoryTool(p, 'archival_memory_search', { query: 'x'.repeat(2001) }),
    'invalid_arguments',
    /more than 2000\. Use a shorter query/,
  );
  await rejectsWith(callMemoryTool(p, 'conversation_search', { query: 'x', page: -1 }), 'invalid_arguments', /"page" must be at least 0/);
  assert.equal(searched, 0);
  assert.equal(p.notes.length, 0);
  // The VS Code name reaches the same tool; "3" for 3 is accepted, as for the agent's own functions.
  await callMemoryTool(p, 'memgpt_archival_memory_search', { query: 'x', k: '3' });
  assert.equal(searched, 1);
});

test('mcp tools: search results are cut to the budget with a note, and carry the hits as JSON', async () => {
  const hits: ArchivalHit[] = Array.from({ length: 10 }, (_, i) => ({
    id: `w${i}`,
    source: 'workspace',
    text: 'y'.repeat(5000),
    score: 1 - i / 10,
    path: `src/f${i}.ts`,
    startLine: 1,
    endLine: 90,
  }));
  let asked: unknown;
  const p = port({ searchArchival: async (_q, options) => ((asked = options), hits) });
  const result = await callMemoryTool(p, 'archival_memory_search', { query: 'thing', k: 10, source: 'workspace', path: 'src/**' });
  assert.deepEqual(asked, { limit: 10, source: 'workspace', pathGlob: 'src/**' });
  assert.ok(result.text.length <= MEMORY_TOOL_RESULT_MAX_CHARS + 200, `${result.text.length} chars`);
  assert.match(result.text, /^10 results for "thing", best first:\n1\. \(score 1\.0000\) \[code\] src\/f0\.ts:1-90/);
  assert.match(result.text, /\[\.\.\. cut, \d+ chars in total\]/);
  const structured = result.structured as { results: { id: string; text: string }[] };
  assert.equal(structured.results.length, 10);
  assert.equal(structured.results[9]!.text.length, 5000, 'the JSON keeps every character');
});

test('mcp tools: find_symbol lists definitions, then uses, and says when nothing is indexed', async () => {
  const found = port({
    findSymbol: async (name) => ({
      definitions: [
        {
          name,
          kind: 'function',
          path: 'src/billing.ts',
          line: 3,
          startLine: 1,
          endLine: 9,
          container: '',
          signature: 'export function total(lines: number[]): number',
          doc: 'Sums the lines.',
        },
      ],
      references: [{ name, path: 'src/app.ts', line: 12 }],
      moreReferences: 4,
    }),
  });
  const text = (await callMemoryTool(found, 'find_symbol', { name: 'total' })).text;
  assert.match(
    text,
    /^total: 1 definition\(s\), 5 reference\(s\)\.\nDefinitions:\n- src\/billing\.ts:3 function total: export function total/,
  );
  assert.match(text, /References:\n- src\/app\.ts:12\n\[4 more references not listed\.\]/);
  assert.match((await callMemoryTool(port(), 'find_symbol', { name: 'nothing' })).text, /No definition or use of nothing is indexed/);
  await rejectsWith(callMemoryTool(port(), 'find_symbol', { name: ' ' }), 'invalid_arguments', /"name" is empty\. Give the identifier/);
});

test('mcp tools: no agent yet reads as an explanation, not an error; remembering passes the note and its failure', async () => {
  const empty = port({ searchConversation: async () => null, coreMemory: async () => null });
  assert.match((await callMemoryTool(empty, 'core_memory_read', {})).text, /no MemGPT agent yet/);
  assert.match((await callMemoryTool(empty, 'conversation_search', { query: 'x' })).text, /no MemGPT agent yet/);
  const p = port();
  const stored = await callMemoryTool(p, 'archival_memory_insert', { content: '  Use pnpm, not npm.  ' });
  assert.deepEqual(p.notes, ['Use pnpm, not npm.']);
  assert.deepEqual(stored.structured, { id: 'm1' });
  const readOnly = port({
    rememberNote: async () => {
      throw new MemoryToolError('read_only', 'Cannot remember this note: read-only.');
    },
  });
  await rejectsWith(callMemoryTool(readOnly, 'archival_memory_insert', { content: 'x' }), 'read_only', /read-only/);
  const broken = port({
    searchArchival: async () => {
      throw new Error('disk on fire');
    },
  });
  await rejectsWith(
    callMemoryTool(broken, 'archival_memory_search', { query: 'x' }),
    'failed',
    /archival_memory_search failed: disk on fire/,
  );
});
