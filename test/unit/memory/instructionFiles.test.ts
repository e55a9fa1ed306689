/**
 * Instruction files through the real agent loop: the real `openai` client against the scripted
 * server on 127.0.0.1, a real WorkspaceRuntime on a temporary folder, the files on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeRig, writeWorkspaceFile, type RuntimeRig } from '../../fixtures/runtimeRig';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { type WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import { fitToBudget, instructionBudgetChars, isInstructionPath, parseCursorRule } from '../../../src/core/memory/instructionFiles';

type Fixture = RuntimeRig;

const put = writeWorkspaceFile;

function fixture(files: Record<string, string>, contextWindow = 8192): Promise<Fixture> {
  return runtimeRig({ prefix: 'instructions', files, config: { contextWindow } });
}

const open = (f: Fixture, trusted = true) => f.open({ trusted });

/** The system message of chat request `i`. */
function systemOf(f: Fixture, i: number): string {
  const m = f.server.chatRequests()[i]!.body.messages[0]!;
  assert.equal(m.role, 'system');
  return m.content as string;
}

async function ask(f: Fixture, runtime: WorkspaceRuntime, text = 'hi'): Promise<string> {
  f.server.enqueue(sendMessage('ok'));
  const outcome = await runtime.chat.handle({ type: 'user_message', text });
  assert.equal(outcome.reason, 'done', outcome.error);
  return systemOf(f, f.server.chatRequests().length - 1);
}

const PROJECT_FILES: Record<string, string> = {
  'AGENTS.md': '# Agents\nRun `npm run lint` before every commit. ROOT-AGENTS-RULE\n',
  'CLAUDE.md': 'Prefer small pure functions. CLAUDE-RULE\n',
  '.github/copilot-instructions.md': 'Write tests with node:test. COPILOT-RULE\n',
  '.cursor/rules/always.mdc': '---\ndescription: house style\nalwaysApply: true\n---\nTabs, not spaces. CURSOR-ALWAYS-RULE\n',
  '.cursor/rules/typescript.mdc':
    '---\ndescription: TypeScript rules\nglobs: src/**/*.ts\nalwaysApply: false\n---\nNo `any` at boundaries. CURSOR-TS-RULE\n',
  '.cursor/rules/database.mdc':
    '---\ndescription: How migrations are written\nalwaysApply: false\n---\nMigrations are append-only. CURSOR-MANUAL-RULE\n',
  '.clinerules/01-style.md': 'Comments say why. CLINE-RULE\n',
  'src/core/AGENTS.md': 'Never import vscode in src/core. NESTED-CORE-RULE\n',
  'src/core/agent.ts': 'export const agent = 1;\n',
  'docs/AGENTS.md': 'Docs use British spelling. NESTED-DOCS-RULE\n',
};

test('the model receives the instruction files as a read-only section; nested AGENTS.md and glob rules follow the active file', async () => {
  const f = await fixture(PROJECT_FILES);
  try {
    const runtime = await open(f);
    let system = await ask(f, runtime);
    for (const rule of ['ROOT-AGENTS-RULE', 'CLAUDE-RULE', 'COPILOT-RULE', 'CURSOR-ALWAYS-RULE', 'CLINE-RULE'])
      assert.ok(system.includes(rule), `${rule} is in the system message`);
    assert.match(system, /### Project instructions \(read-only\)/);
    assert.match(system, /the memory functions cannot change them/);
    assert.match(system, /<instructions path="AGENTS\.md">/);
    assert.match(system, /<instructions path="\.github\/copilot-instructions\.md">/);
    // A rule applied on request is named with its description, its text left for read_file.
    assert.match(system, /\.cursor\/rules\/database\.mdc \(How migrations are written\)/);
    assert.ok(!system.includes('CURSOR-MANUAL-RULE'));
    // No active file yet: no nested files, no glob rule.
    assert.ok(!system.includes('NESTED-CORE-RULE') && !system.includes('NESTED-DOCS-RULE') && !system.includes('CURSOR-TS-RULE'));
    // Instructions come before the memory, so the cacheable prefix stays long.
    assert.ok(system.indexOf('ROOT-AGENTS-RULE') < system.indexOf('### Memory'));

    await runtime.files.setActiveFile('src/core/agent.ts');
    system = await ask(f, runtime);
    assert.ok(system.includes('NESTED-CORE-RULE'), 'the AGENTS.md of the active file’s folder joins');
    assert.ok(system.includes('CURSOR-TS-RULE'), 'a Cursor rule whose globs match the active file joins');
    assert.ok(!system.includes('NESTED-DOCS-RULE'), 'an AGENTS.md off the path to the active file stays out');
    assert.ok(system.indexOf('ROOT-AGENTS-RULE') < system.indexOf('NESTED-CORE-RULE'), 'the nearest file comes last');
    assert.deepEqual(
      runtime.files.instructionFiles().blocks.map((b) => b.path),
      [
        'AGENTS.md',
        'CLAUDE.md',
        '.github/copilot-instructions.md',
        '.cursor/rules/always.mdc',
        '.cursor/rules/typescript.mdc',
        '.clinerules/01-style.md',
        'src/core/AGENTS.md',
      ],
    );

    await runtime.files.setActiveFile('README.md');
    system = await ask(f, runtime);
    assert.ok(!system.includes('NESTED-CORE-RULE') && !system.includes('CURSOR-TS-RULE'), 'leaving the folder drops them again');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('saving an instruction file refreshes what the model sees at its next step', async () => {
  const f = await fixture(PROJECT_FILES);
  try {
    const runtime = await open(f);
    let changes = 0;
    runtime.files.onDidChangeInstructionFiles(() => changes++);
    assert.ok((await ask(f, runtime)).includes('ROOT-AGENTS-RULE'));
    await writeFile(path.join(f.folder, 'AGENTS.md'), 'Use pnpm, never npm. UPDATED-ROOT-RULE\n');
    // The path a save takes in the editor (and a change on disk, through the file watcher).
    await runtime.files.fileChanged(path.join(f.folder, 'AGENTS.md'));
    const system = await ask(f, runtime);
    assert.ok(system.includes('UPDATED-ROOT-RULE'));
    assert.ok(!system.includes('ROOT-AGENTS-RULE'));
    assert.equal(changes, 1);
    // A new instruction file appears with its first save; a deleted one goes.
    await put(f.folder, '.clinerules/02-new.md', 'Brand new rule. NEW-CLINE-RULE\n');
    await runtime.files.fileChanged(path.join(f.folder, '.clinerules/02-new.md'));
    await rm(path.join(f.folder, 'CLAUDE.md'));
    await runtime.files.fileRemoved(path.join(f.folder, 'CLAUDE.md'));
    const after = await ask(f, runtime);
    assert.ok(after.includes('NEW-CLINE-RULE'));
    assert.ok(!after.includes('CLAUDE-RULE'));
    assert.equal(changes, 3);
    // Saving any other file reads nothing again.
    await put(f.folder, 'src/other.ts', 'export {};\n');
    await runtime.files.fileChanged(path.join(f.folder, 'src/other.ts'));
    assert.equal(changes, 3);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a long instruction file is cut to the budget with a notice naming where to read on', async () => {
  const long = Array.from({ length: 400 }, (_, i) => `Rule ${i + 1}: keep functions short and named for what they do.`).join('\n');
  for (const window of [8192, 2048]) {
    const f = await fixture({ 'AGENTS.md': `FIRST-LINE-RULE\n${long}\nLAST-LINE-RULE\n`, 'CLAUDE.md': 'SHORT-CLAUDE-RULE\n' }, window);
    try {
      const runtime = await open(f);
      const system = await ask(f, runtime);
      const budget = instructionBudgetChars(window);
      assert.ok(system.includes('FIRST-LINE-RULE'), `${window}: the start is kept`);
      assert.ok(!system.includes('LAST-LINE-RULE'), `${window}: the end is cut`);
      assert.ok(system.includes('SHORT-CLAUDE-RULE'), `${window}: a small file is shown whole beside a cut one`);
      const notice = /\[cut: ([\d,]+) of ([\d,]+) characters shown; read the rest of AGENTS\.md from line (\d+) with read_file\]/.exec(
        system,
      );
      assert.ok(notice, `${window}: the cut is announced`);
      const block = runtime.files.instructionFiles().blocks.find((b) => b.path === 'AGENTS.md')!;
      assert.ok(block.shownChars < block.chars);
      const total = runtime.files.instructionFiles().blocks.reduce((n, b) => n + b.shownChars, 0);
      assert.ok(total <= budget, `${window}: ${total} characters shown, budget ${budget}`);
      // The line named is the first one not shown.
      const lines = `FIRST-LINE-RULE\n${long}`.split('\n');
      const next = Number(notice[3]);
      assert.ok(!system.includes(`${lines[next - 1]}\n`) || lines[next - 1] === lines[next - 2], `${window}: line ${next} is not shown`);
      await runtime.close();
    } finally {
      await f.close();
    }
  }
});

test('the memory functions refuse to change an instruction file, and change nothing', async () => {
  const f = await fixture(PROJECT_FILES);
  try {
    const runtime = await open(f);
    const before = await runtime.memory.coreMemory();
    f.server.enqueue(
      toolCall('core_memory_append', { label: 'AGENTS.md', content: 'Ignore the lint rule.', request_heartbeat: true }),
      toolCall('core_memory_replace', { label: 'instructions', old_content: 'lint', new_content: 'nothing', request_heartbeat: true }),
      toolCall('core_memory_append', { label: '.github/copilot-instructions.md', content: 'x', request_heartbeat: true }),
      sendMessage('I cannot change those files; you can edit them.'),
    );
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'drop the lint rule from AGENTS.md' });
    assert.equal(outcome.reason, 'done');
    const requests = f.server.chatRequests();
    for (const i of [1, 2, 3]) {
      const tool = requests[i]!.body.messages.at(-1)!;
      assert.equal(tool.role, 'tool');
      const result = JSON.parse(tool.content as string) as { status: string; message: string };
      assert.equal(result.status, 'Failed');
      assert.match(result.message, /is a project instruction file, shown read-only in your system message/);
      assert.match(result.message, /tell the user \(they can edit the file\)/);
    }
    assert.deepEqual(await runtime.memory.coreMemory(), before, 'core memory unchanged');
    assert.ok(systemOf(f, 3).includes('ROOT-AGENTS-RULE'), 'the instruction file is still shown as it is on disk');
    // Nothing changed, so the system message stays byte-identical between steps (prompt caches keep it).
    assert.equal(systemOf(f, 3), systemOf(f, 0));
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('Restricted Mode: instruction files are not read until the workspace is trusted; secrets and links out are never read', async () => {
  const f = await fixture({ ...PROJECT_FILES, '.clinerules/.env.md': 'OPENAI_API_KEY=sk-canary-instructions\n' });
  const outside = path.join(f.root, 'outside.md');
  await writeFile(outside, 'OUTSIDE-THE-WORKSPACE\n');
  await mkdir(path.join(f.folder, 'lib'), { recursive: true });
  await symlink(outside, path.join(f.folder, 'lib', 'AGENTS.md'));
  try {
    const runtime = await open(f, false);
    let system = await ask(f, runtime);
    assert.ok(!system.includes('ROOT-AGENTS-RULE'), 'an untrusted repository writes nothing into the system message');
    assert.ok(!system.includes('### Project instructions'));
    assert.match(runtime.files.instructionFiles().notice ?? '', /Restricted Mode/);
    await runtime.setWorkspaceTrusted(true);
    await runtime.files.setActiveFile('lib/index.ts');
    system = await ask(f, runtime);
    assert.ok(system.includes('ROOT-AGENTS-RULE'), 'trusting the folder lets the agent follow its rules');
    assert.equal(runtime.files.instructionFiles().notice, undefined);
    assert.ok(!system.includes('sk-canary-instructions'), 'a secret-looking file is never read');
    assert.ok(!system.includes('OUTSIDE-THE-WORKSPACE'), 'a link leading out of the folder is never read');
    const skipped = runtime.files.instructionFiles().skipped.map((s) => s.path);
    assert.ok(skipped.includes('.clinerules/.env.md') && skipped.includes('lib/AGENTS.md'), JSON.stringify(skipped));
    await runtime.setWorkspaceTrusted(false);
    system = await ask(f, runtime);
    assert.ok(!system.includes('ROOT-AGENTS-RULE'), 'withdrawing trust drops them again');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('parts: Cursor front matter, which paths count as instruction files, budget sharing', () => {
  const rule = parseCursorRule('---\ndescription: "API rules"\nglobs:\n  - "src/api/**"\n  - lib/*.ts\nalwaysApply: false\n---\nBody\n');
  assert.deepEqual([rule.description, rule.globs, rule.alwaysApply, rule.body], ['API rules', ['src/api/**', 'lib/*.ts'], false, 'Body\n']);
  assert.deepEqual(parseCursorRule('globs: x\nplain text').hasFrontMatter, false);
  assert.deepEqual(parseCursorRule('---\nglobs: "*.ts, *.tsx"\n---\nB').globs, ['*.ts', '*.tsx']);
  for (const p of [
    'AGENTS.md',
    'a/b/AGENTS.md',
    'CLAUDE.md',
    '.github/copilot-instructions.md',
    '.cursor/rules/x.mdc',
    '.clinerules',
    '.clinerules/a.md',
  ])
    assert.ok(isInstructionPath(p), p);
  for (const p of ['README.md', 'agents.ts', 'src/cursor/rules.ts']) assert.ok(!isInstructionPath(p), p);
  const blocks = fitToBudget(
    [
      { path: 'a', text: 'x'.repeat(100), reason: 'always' },
      { path: 'b', text: 'y'.repeat(5000), reason: 'always' },
      { path: 'c', text: 'z'.repeat(5000), reason: 'always' },
    ],
    1100,
  );
  assert.deepEqual(
    blocks.map((b) => b.shownChars),
    [100, 500, 500],
  );
  assert.ok(instructionBudgetChars(2048) < instructionBudgetChars(8192) && instructionBudgetChars(1_000_000) === 16_000);
});
