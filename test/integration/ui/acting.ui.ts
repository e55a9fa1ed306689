/**
 * The agent acts in the REAL workbench, on a scripted model: an edit's card shows the diff and
 * Open diff; Accept changes the file on disk through the editor, and Ctrl+Z in the editor takes it
 * back; an editor with unsaved changes is edited as shown and left for the user to save; Reject leaves the file alone and the model reads the user's reason; an approved command's
 * output shows in its card; Stop kills a running command's process; Restore brings a checkpoint's
 * files back and the agent is told. One dedicated code-server.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { HARNESS_UI_WAIT_MS } from '../../../src/core/limits';
import type { ServerNeeds, UiScenario, WorkbenchUi } from '../../harness/ui';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { assertThat, completeReply, composerReady, ModelSlot, replies, say, until } from './agentChatSupport';

const EDIT = {
  path: 'src/config.ts',
  old_string: 'Number(env.PORT ?? 3000)',
  new_string: 'Number(env.PORT ?? 8080)',
  request_heartbeat: true,
};
const UNSAVED_EDIT = {
  path: 'src/config.ts',
  old_string: "env.NOTES_DATA_DIR ?? './data'",
  new_string: "env.NOTES_DATA_DIR ?? './var/data'",
  request_heartbeat: true,
};
const USER_NOTE = '// a note the user has not saved';
const REJECTED_EDIT = {
  path: 'src/config.ts',
  old_string: 'adminToken: env.NOTES_ADMIN_TOKEN,',
  new_string: "adminToken: 'letmein',",
  request_heartbeat: true,
};
const REASON = 'keep the admin token in the environment';
const ECHO = 'node -e "console.log(\'hello from the approved command\')"';
const LONG = 'node -e "console.log(\'pid \' + process.pid); setInterval(() => {}, 1000)"';
const GREETING = 'export const greeting = "hello";\n';

const slot = new ModelSlot();

function lastToolResult(): string {
  const messages = slot.model.chatRequests().at(-1)?.body.messages ?? [];
  return (
    messages
      .filter((m) => m.role === 'tool')
      .map((m) => String(m.content))
      .at(-1) ?? ''
  );
}

function card(chat: FrameLocator, fn: string): Locator {
  return chat.locator(`.card[data-function="${fn}"]`).last();
}

/** Opens a workspace file with Quick Open (Ctrl+P), as a user does; its editor has the focus. */
async function openFile(page: Page, relPath: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.fill(relPath);
  await page
    .locator('.quick-input-widget .monaco-list-row', { hasText: path.posix.basename(relPath) })
    .first()
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: HARNESS_UI_WAIT_MS });
  await page
    .locator('.editor-group-container.active .monaco-editor .view-lines')
    .first()
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
}

async function activeEditorText(page: Page): Promise<string> {
  const text = await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText();
  return text.replace(/\u00a0/g, ' ');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie waits for its parent to reap it; it runs nothing.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function acceptAndUndo(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const page = ui.page;
  const file = path.join(ui.workspaceFolder, 'src', 'config.ts');
  const original = readFileSync(file, 'utf8');
  assertThat(original.includes('env.PORT ?? 3000'), 'The sample config should default to port 3000.');
  await openFile(page, 'src/config.ts');

  // Counted, not assumed: a wake-up (the login event) may have answered first.
  const n = await replies(chat).count();
  await say(chat, 'acting: make the default port 8080');
  const approval = card(chat, 'edit_file').locator('.approval');
  await approval.waitFor({ state: 'visible' });
  const title = await approval.locator('.approval-title').innerText();
  assertThat(
    title.includes('Edit src/config.ts?') && title.includes('+1 −1'),
    `The card should name the file and the size of the change: ${title}`,
  );
  const diff = await approval.locator('.approval-diff').innerText();
  assertThat(
    diff.includes('-  const port = Number(env.PORT ?? 3000);') && diff.includes('+  const port = Number(env.PORT ?? 8080);'),
    `The card should show the diff: ${diff}`,
  );
  assertThat(readFileSync(file, 'utf8') === original, 'Nothing may change before Accept.');
  await ui.screenshot('acting-edit-card');

  // Open diff: VS Code's diff editor with the proposed text.
  await approval.locator('.approval-open-diff').click();
  await page.locator('.tabs-container .tab', { hasText: 'proposed by MemGPT' }).first().waitFor({ state: 'visible' });
  await page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible' });
  await ui.screenshot('acting-open-diff');
  await ui.runCommand('View: Close Editor');
  await page.locator('.tabs-container .tab', { hasText: 'proposed by MemGPT' }).first().waitFor({ state: 'detached' });

  await approval.locator('.approval-button.accept').click();
  assertThat((await completeReply(chat, n)) === 'Changed the default port to 8080.', 'The agent should answer after the edit.');
  await approval.waitFor({ state: 'detached' });
  await until(
    'the file on disk to change',
    async () => readFileSync(file, 'utf8'),
    (t) => t.includes('env.PORT ?? 8080'),
  );
  assertThat(
    /Edited src\/config\.ts: \+1 −1 lines/.test(lastToolResult()),
    `The model should read what changed: ${lastToolResult().slice(0, 300)}`,
  );
  await card(chat, 'edit_file').locator('.restore-button').waitFor({ state: 'visible' });
  // The agent's own save is not reported back to it as the user's.
  await page.waitForTimeout(1500);
  const chips = await chat.locator('.chip[data-event="file_saved"]').allInnerTexts();
  assertThat(chips.length === 0, `The agent's own save must not reach it as a file event: ${JSON.stringify(chips)}`);

  // Ctrl+Z in the editor takes the agent's edit back (it went through the editor's undo stack).
  await openFile(page, 'src/config.ts');
  await until(
    'the editor to show the edit',
    () => activeEditorText(page),
    (t) => t.includes('env.PORT ?? 8080'),
  );
  await page.keyboard.press('Control+Z');
  await until(
    'Ctrl+Z to revert the edit',
    () => activeEditorText(page),
    (t) => t.includes('env.PORT ?? 3000'),
  );
  await page.keyboard.press('Control+S');
  await until(
    'the reverted file on disk',
    async () => readFileSync(file, 'utf8'),
    (t) => t === original,
  );
}

/** An editor with unsaved changes is edited as the user sees it, and left for the user to save. */
async function unsavedBuffer(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const page = ui.page;
  const file = path.join(ui.workspaceFolder, 'src', 'config.ts');
  const onDisk = readFileSync(file, 'utf8');
  await openFile(page, 'src/config.ts');
  await page.keyboard.press('Control+End');
  await page.keyboard.type(USER_NOTE);
  await until(
    'the unsaved note in the editor',
    () => activeEditorText(page),
    (t) => t.includes(USER_NOTE),
  );
  await composerReady(chat);
  const n = await replies(chat).count();
  await say(chat, 'acting: move the data folder');
  const approval = card(chat, 'edit_file').locator('.approval');
  await approval.waitFor({ state: 'visible' });
  await approval.locator('.approval-button.accept').click();
  assertThat((await completeReply(chat, n)) === 'Moved the data folder.', 'The agent should answer after the edit.');
  await openFile(page, 'src/config.ts');
  const shown = await until(
    'the edit in the unsaved editor',
    () => activeEditorText(page),
    (t) => t.includes("'./var/data'"),
  );
  assertThat(shown.includes(USER_NOTE), `The user's unsaved text must survive the agent's edit: ${shown}`);
  assertThat(
    readFileSync(file, 'utf8') === onDisk,
    'An editor with unsaved changes is left for the user to save: the disk must not change yet.',
  );
  await page.keyboard.press('Control+S');
  await until(
    'the save by the user',
    async () => readFileSync(file, 'utf8'),
    (t) => t.includes("'./var/data'") && t.includes(USER_NOTE),
  );
}

async function reject(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const file = path.join(ui.workspaceFolder, 'src', 'config.ts');
  const before = readFileSync(file, 'utf8');
  await composerReady(chat);
  const n = await replies(chat).count();
  await say(chat, 'acting: hardcode the admin token');
  const approval = card(chat, 'edit_file').locator('.approval');
  await approval.waitFor({ state: 'visible' });
  await approval.locator('.approval-reason').fill(REASON);
  await approval.locator('.approval-button.reject').click();
  assertThat((await completeReply(chat, n)) === 'Understood, the token stays in the environment.', 'The agent should answer the decline.');
  assertThat(readFileSync(file, 'utf8') === before, 'A rejected edit must not change the file.');
  const result = lastToolResult();
  assertThat(result.includes(`the user declined: ${REASON}`), `The model should read the decline and the reason: ${result.slice(0, 300)}`);
  await card(chat, 'edit_file').and(chat.locator('.card.status-Failed')).waitFor({ state: 'visible' });
}

async function command(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  await composerReady(chat);
  const n = await replies(chat).count();
  await say(chat, 'acting: run the greeting command');
  const approval = card(chat, 'run_command').locator('.approval');
  await approval.waitFor({ state: 'visible' });
  const shown = await approval.locator('.approval-command').innerText();
  assertThat(shown.includes(ECHO), `The card should show the command: ${shown}`);
  assertThat(
    (await approval.locator('.approval-title').innerText()).includes('Run this command in .?'),
    'The card should name the folder.',
  );
  assertThat(
    (await approval.locator('.approval-button.always').innerText()).includes('Always allow commands starting with "node"'),
    'The card should offer to always allow the prefix.',
  );
  await ui.screenshot('acting-command-card');
  await approval.locator('.approval-button.accept').click();
  assertThat((await completeReply(chat, n)) === 'It greeted.', 'The agent should answer after the command.');
  const output = await card(chat, 'run_command').locator('.card-output').innerText();
  assertThat(output.includes('hello from the approved command'), `The command's output should be in its card: ${output}`);
  assertThat(/exited with code 0/.test(lastToolResult()), `The model should read the exit code: ${lastToolResult().slice(0, 300)}`);
}

async function stopRunningCommand(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  await composerReady(chat);
  await say(chat, 'acting: run the server');
  const approval = card(chat, 'run_command').locator('.approval');
  await approval.waitFor({ state: 'visible' });
  await approval.locator('.approval-button.accept').click();
  const output = card(chat, 'run_command').locator('.card-output');
  const text = await until(
    'the command to print its pid',
    async () => output.innerText(),
    (t) => /pid \d+/.test(t),
  );
  const pid = Number(/pid (\d+)/.exec(text)![1]);
  assertThat(alive(pid), `The command should be running (pid ${pid}).`);
  await chat.locator('.stop-button').click();
  await until(
    'the command to be killed',
    async () => alive(pid),
    (a) => !a,
    10_000,
  );
  await composerReady(chat);
  await ui.screenshot('acting-command-stopped');
}

async function restore(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const file = path.join(ui.workspaceFolder, 'src', 'greeting.ts');
  await composerReady(chat);
  const n = await replies(chat).count();
  await say(chat, 'acting: add a greeting module');
  const approval = card(chat, 'write_file').locator('.approval');
  await approval.waitFor({ state: 'visible' });
  await approval.locator('.approval-button.accept').click();
  await completeReply(chat, n);
  await until(
    'the new file on disk',
    async () => existsSync(file) && readFileSync(file, 'utf8'),
    (t) => t === GREETING,
  );
  await composerReady(chat);
  const restoreButton = card(chat, 'write_file').locator('.restore-button');
  await restoreButton.waitFor({ state: 'visible' });
  assertThat(
    (await card(chat, 'write_file').locator('.restore-note').innerText()).includes('What commands did is not undone'),
    'Restore should say command side effects stay.',
  );
  await restoreButton.click();
  await until(
    'the restore to delete the file the turn created',
    async () => existsSync(file),
    (e) => !e,
  );
  await chat.locator('.chip', { hasText: 'The user restored checkpoint' }).first().waitFor({ state: 'visible' });
  await ui.screenshot('acting-restored');
}

function withSettings(settings: Record<string, unknown>, scripts: Parameters<ModelSlot['hook']>[0]): () => Promise<ServerNeeds> {
  const start = slot.hook(scripts);
  return async () => {
    const needs = await start();
    return { ...needs, settings: { ...needs.settings, ...settings } };
  };
}

export const scenarios: UiScenario[] = [
  {
    title:
      "acting: diff card, Open diff, Accept then Ctrl+Z; Reject with a reason; an approved command's output; Stop kills a running command; Restore",
    // VS Code for the Web saves after a delay by default; the desktop default (off) is what "unsaved" means here.
    server: withSettings({ 'files.autoSave': 'off' }, [
      {
        match: 'acting: make the default port 8080',
        steps: [toolCall('edit_file', EDIT), sendMessage('Changed the default port to 8080.')],
      },
      { match: 'acting: move the data folder', steps: [toolCall('edit_file', UNSAVED_EDIT), sendMessage('Moved the data folder.')] },
      {
        match: 'acting: hardcode the admin token',
        steps: [toolCall('edit_file', REJECTED_EDIT), sendMessage('Understood, the token stays in the environment.')],
      },
      {
        match: 'acting: run the greeting command',
        steps: [toolCall('run_command', { command: ECHO, request_heartbeat: true }), sendMessage('It greeted.')],
      },
      {
        match: 'acting: run the server',
        steps: [toolCall('run_command', { command: LONG, request_heartbeat: true }), sendMessage('It stopped.')],
      },
      {
        match: 'acting: add a greeting module',
        steps: [
          toolCall('write_file', { path: 'src/greeting.ts', content: GREETING, request_heartbeat: true }),
          sendMessage('Added src/greeting.ts.'),
        ],
      },
    ]),
    async run(ui) {
      const chat = await ui.openMemGptView();
      await acceptAndUndo(ui, chat);
      await unsavedBuffer(ui, chat);
      await reject(ui, chat);
      await command(ui, chat);
      await stopRunningCommand(ui, chat);
      await restore(ui, chat);
    },
  },
];
