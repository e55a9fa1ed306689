/**
 * Restricted Mode in the real VS Code (workspace trust ON, so the folder opens untrusted) with the
 * REAL agent on a scripted model server: the chat works, the model is offered no file functions,
 * a file function it calls anyway fails with the reason, "MemGPT: Index Workspace" refuses with a
 * notification that says why and what to do, and the status bar says so too. Then the user trusts
 * the folder in the Workspace Trust editor: the next request offers read_file (which reads the
 * file), indexing runs, and archival search finds workspace code. One dedicated code-server.
 */
import type { FrameLocator, Page } from 'playwright-core';
import type { UiScenario, WorkbenchUi } from '../../harness/ui';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { assertThat, completeReply, ModelSlot, replies, say, until } from './agentChatSupport';

// Reading and acting alike: Restricted Mode offers none of them, trusting the folder offers them all.
const FILE_FUNCTIONS = ['read_file', 'list_files', 'search_text', 'edit_file', 'write_file', 'run_command'];
const RESTRICTED_REPLY = 'I cannot read files here: this workspace is in Restricted Mode.';
const TRUSTED_REPLY = 'The todo store keeps todos in a Map (src/store/todoStore.ts:1-20).';
const SEARCH_REPLY = 'Archival memory has the todo store indexed.';

const slot = new ModelSlot();
const modelHook = slot.hook([
  {
    // A model that calls read_file although it was not offered (small models do).
    match: 'restricted: what is in the todo store',
    steps: [
      toolCall('read_file', { path: 'src/store/todoStore.ts', start_line: 1, end_line: 20, request_heartbeat: true }),
      sendMessage(RESTRICTED_REPLY),
    ],
  },
  {
    match: 'trusted: what is in the todo store',
    steps: [
      toolCall('read_file', { path: 'src/store/todoStore.ts', start_line: 1, end_line: 20, request_heartbeat: true }),
      sendMessage(TRUSTED_REPLY),
    ],
  },
  {
    match: 'search your archive for the todo store',
    steps: [
      toolCall('archival_memory_search', { query: 'TodoStore add complete', page: 0, request_heartbeat: true }),
      sendMessage(SEARCH_REPLY),
    ],
  },
]);

function offeredTools(): string[] {
  return (
    slot.model
      .chatRequests()
      .at(-1)
      ?.body.tools?.map((t) => t.function.name) ?? []
  );
}

/** The MemGPT status-bar item's accessible label (its text and tooltip). */
async function memgptStatus(page: Page): Promise<string> {
  const item = page.locator('.statusbar-item[id$="memgpt.status"]').first();
  await item.waitFor({ state: 'visible' });
  return (await item.getAttribute('aria-label')) ?? '';
}

async function restricted(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const page = ui.page;
  // The workbench itself is in Restricted Mode.
  await page.locator('.statusbar-item[id="status.workspaceTrust"]').waitFor({ state: 'visible' });
  // The chat itself says so, above the conversation.
  await chat.locator('.notice', { hasText: 'Restricted Mode' }).waitFor({ state: 'visible' });

  // The chat works; the request offered no file function.
  // Counted, not assumed: the login event may have woken the agent (and got a reply) first.
  const first = await replies(chat).count();
  await say(chat, 'restricted: what is in the todo store?');
  assertThat((await completeReply(chat, first)) === RESTRICTED_REPLY, 'The restricted-mode reply should show.');
  const requests = slot.model.chatRequests();
  assertThat(requests.length >= 2, `Expected the call and its heartbeat, got ${requests.length} chat requests.`);
  for (const [i, r] of requests.entries()) {
    const names = r.body.tools?.map((t) => t.function.name) ?? [];
    assertThat(
      names.includes('send_message') && names.includes('archival_memory_search'),
      `Request ${i} should offer the memory functions: ${names.join(', ')}`,
    );
    const offered = names.filter((n) => FILE_FUNCTIONS.includes(n));
    assertThat(offered.length === 0, `Request ${i} offered file functions in Restricted Mode: ${offered.join(', ')}`);
  }
  // The read_file the model called anyway failed with the reason, visible on its card.
  const card = chat.locator('.card[data-function="read_file"]');
  await card.and(chat.locator('.card.status-Failed')).waitFor({ state: 'visible' });
  await card.locator('.card-header').click();
  const cardText = await card.locator('.card-body').innerText();
  assertThat(/not trusted \(restricted mode\)/.test(cardText), `The failed read_file card should say why: ${cardText}`);
  const toolResult =
    requests
      .at(-1)
      ?.body.messages.filter((m) => m.role === 'tool')
      .map((m) => String(m.content))
      .join('\n') ?? '';
  assertThat(
    /restricted mode/.test(toolResult) && !toolResult.includes('export class TodoStore'),
    `The model got the refusal, not the file: ${toolResult.slice(0, 300)}`,
  );

  // Index Workspace refuses, in a notification that says why and what to do.
  await ui.runCommand('MemGPT: Index Workspace');
  const notes = await until(
    'the restricted-mode notification',
    () => ui.notifications(),
    (n) => n.some((t) => t.includes('Restricted Mode')),
  );
  const note = notes.find((t) => t.includes('Restricted Mode'))!;
  assertThat(
    /indexes none of its files/.test(note) && /Manage Workspace Trust/.test(note),
    `The notification should say why and what to do: ${note}`,
  );
  assertThat(!notes.some((t) => /indexing the workspace|indexed/i.test(t)), `No indexing should have started: ${JSON.stringify(notes)}`);

  // The status bar says so.
  const status = await memgptStatus(page);
  assertThat(
    /shield/.test(status) && /Restricted Mode: this workspace is not trusted, so MemGPT indexes no files/.test(status),
    `The status bar should explain Restricted Mode: ${status}`,
  );
  await ui.screenshot('restricted-mode');
}

/** Trusts the folder as a user does: "Workspaces: Manage Workspace Trust", then its Trust button. */
async function trustFolder(ui: WorkbenchUi): Promise<void> {
  await ui.runCommand('Workspaces: Manage Workspace Trust');
  const trust = ui.page.locator('.workspace-trust-buttons .monaco-button', { hasText: /^Trust$/ }).first();
  await trust.waitFor({ state: 'visible' });
  await ui.screenshot('restricted-mode-trust-editor');
  await trust.click();
  await ui.page.locator('.statusbar-item[id="status.workspaceTrust"]').waitFor({ state: 'detached' });
  await ui.runCommand('View: Close Editor');
}

async function trusted(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const page = ui.page;
  await until(
    'the status bar to drop the Restricted Mode note',
    () => memgptStatus(page),
    (s) => !s.includes('Restricted Mode'),
  );
  await chat.locator('.notice', { hasText: 'Restricted Mode' }).waitFor({ state: 'hidden' });

  // The next request offers read_file, and reading works.
  const before = slot.model.chatRequests().length;
  const shown = await replies(chat).count();
  await say(chat, 'trusted: what is in the todo store?');
  assertThat((await completeReply(chat, shown)) === TRUSTED_REPLY, 'The trusted reply should show.');
  const first = slot.model.chatRequests()[before];
  const names = first?.body.tools?.map((t) => t.function.name) ?? [];
  for (const f of FILE_FUNCTIONS) assertThat(names.includes(f), `After trusting, the request should offer ${f}: ${names.join(', ')}`);
  const card = chat.locator('.card[data-function="read_file"].status-OK');
  await card.waitFor({ state: 'visible' });
  const toolResult =
    slot.model
      .chatRequests()
      .at(-1)
      ?.body.messages.filter((m) => m.role === 'tool')
      .map((m) => String(m.content))
      .at(-1) ?? '';
  assertThat(toolResult.includes('class TodoStore'), `read_file should return the file now: ${toolResult.slice(0, 300)}`);

  // Indexing runs (trust starts it; the command shows its progress or finds it done), and archival
  // search finds workspace code.
  await ui.runCommand('MemGPT: Index Workspace');
  await until(
    'archival search to find the indexed todo store',
    async () => {
      const n = await replies(chat).count();
      await say(chat, 'search your archive for the todo store');
      await completeReply(chat, n);
      return (
        slot.model
          .chatRequests()
          .at(-1)
          ?.body.messages.filter((m) => m.role === 'tool')
          .map((m) => String(m.content))
          .at(-1) ?? ''
      );
    },
    (result) => result.includes('src/store/todoStore.ts:'),
  );
  const counts = (await chat.locator('.meter-counts').innerText()).replace(/\s+/g, ' ').trim();
  const archival = Number(counts.split(' ').at(-1));
  assertThat(archival > 0, `The meter should count archival passages after indexing: "${counts}"`);
  await ui.screenshot('restricted-mode-trusted');
}

export const scenarios: UiScenario[] = [
  {
    title:
      'restricted mode: untrusted folder chats without file functions, Index Workspace refuses and says why; trusting it enables read_file and indexing',
    server: async () => ({ ...(await modelHook()), workspaceTrust: true }),
    async run(ui) {
      const chat = await ui.openMemGptView();
      await restricted(ui, chat);
      await trustFolder(ui);
      await trusted(ui, chat);
      assertThat(offeredTools().includes('read_file'), 'The last request should still offer read_file.');
    },
  },
];
