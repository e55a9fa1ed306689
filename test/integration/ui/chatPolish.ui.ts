/**
 * The chat as a demanding first user meets it, on the REAL agent in the real VS Code (code-server +
 * Chromium) against a scripted model server: the welcome state and no login chip (also after a
 * reload), the login turn run at window open (its greeting shown as MemGPT's own, not as an answer,
 * and not run again after a question that failed), a click that does not work said in the chat, a server that reuses call ids, readable
 * grouped cards, a failed turn restored by a reload, Search Memory opening a message in the chat,
 * the core memory picker's preview. A second scenario takes the screenshots the polish is judged
 * by: a turn with cards, Search Memory, the memory view and the first run, at 240 and 400 px side
 * bar widths, in the light, dark and high-contrast themes.
 */
import type { FrameLocator } from 'playwright-core';
import { HARNESS_UI_WAIT_MS } from '../../../src/core/limits';
import type { UiScenario, WorkbenchUi } from '../../harness/ui';
import { errorStep, sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { assertThat, chatAfterReload, completeReply, composerReady, ModelSlot, replies, say, until } from './agentChatSupport';

const SNIPPET_QUESTION = 'Give me a snippet';
const SNIPPET_ANSWER = 'Here it is (the old version was in src/gone/missing.ts:3):\n\n```ts\nconst answer = 42;\n```';
const NAME_QUESTION = 'By the way, my name is Ada';
const NAME_ANSWER = 'Nice to meet you, Ada. I will remember that.';
const FAILING_QUESTION = 'Why do sessions expire after an hour?';
const REMEMBERED = 'Name: Ada. Prefers early returns and small functions in TypeScript.';
const GREETING = 'Hello! I keep notes on this project between sessions; ask me anything about it.';

/** Some local servers number calls per reply, so every call is "call_0": the chat must not mix them up. */
const REUSED = { id: 'call_0' };
const SEARCH = { query: 'Ada', page: 3, request_heartbeat: true };
function scripts() {
  return [
    { match: SNIPPET_QUESTION, steps: [sendMessage(SNIPPET_ANSWER, REUSED)] },
    {
      match: NAME_QUESTION,
      steps: [
        toolCall('core_memory_append', { label: 'human', content: REMEMBERED, request_heartbeat: true }, REUSED),
        // The same search three times, each past the last page: one card, not three red ones.
        toolCall('conversation_search', SEARCH, REUSED),
        toolCall('conversation_search', SEARCH, REUSED),
        toolCall('conversation_search', SEARCH, REUSED),
        sendMessage(NAME_ANSWER, REUSED),
      ],
    },
    {
      match: FAILING_QUESTION,
      steps: [errorStep(400, { message: 'This model does not support function calling.', type: 'invalid_request_error' })],
    },
  ];
}

const behaviour = new ModelSlot();
const pictures = new ModelSlot();

/**
 * Narrows the core memory picker to one block by typing its label, as a user would, and returns its
 * row (the picker matches labels only; another block's preview may name it).
 */
async function blockRow(ui: WorkbenchUi, label: string) {
  await ui.page.locator('.quick-input-widget input.input').fill(label);
  const row = ui.page.locator('.quick-input-widget .monaco-list-row.focused');
  await until(
    `the picker to focus the "${label}" block`,
    async () => (await row.innerText()).trim(),
    (t) => t.startsWith(label),
  );
  return row;
}

/** Runs a command whose own quick pick follows, and waits for that pick (its title). */
async function openPicker(ui: WorkbenchUi, command: string, pickTitle: string): Promise<void> {
  const page = ui.page;
  const input = page.locator('.quick-input-widget input.input');
  await page.keyboard.press('F1');
  await input.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.fill(`>${command}`);
  await page
    .locator('.quick-input-widget .monaco-list-row', { hasText: command })
    .first()
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.press('Enter');
  await page
    .locator('.quick-input-widget .quick-input-title', { hasText: pickTitle })
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
}

async function searchMemoryFor(ui: WorkbenchUi, query: string, expect: string): Promise<string[]> {
  await openPicker(ui, 'MemGPT: Search Memory', 'MemGPT: search memory');
  await ui.page.locator('.quick-input-widget input.input').fill(query);
  await ui.page
    .locator('.quick-input-widget .monaco-list-row', { hasText: expect })
    .first()
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  return (await ui.page.locator('.quick-input-widget .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

async function closePicker(ui: WorkbenchUi): Promise<void> {
  await ui.page.keyboard.press('Escape');
  await ui.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: HARNESS_UI_WAIT_MS });
}

async function tabLabels(ui: WorkbenchUi): Promise<string[]> {
  return ui.page.locator('.tabs-container .tab').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('aria-label') ?? ''));
}

async function firstRun(chat: FrameLocator): Promise<void> {
  await composerReady(chat);
  await chat.locator('.welcome').waitFor({ state: 'visible' });
  const prompts = await chat.locator('.welcome-prompt').count();
  assertThat(prompts >= 3, `The welcome should offer example prompts; it offers ${prompts}.`);
  const tools = (await chat.locator('.welcome-tool').allInnerTexts()).map((t) => t.trim());
  assertThat(
    JSON.stringify(tools) === JSON.stringify(['Remember Selection', 'Search Memory', 'Core memory']),
    `The welcome should point to the memory features: ${JSON.stringify(tools)}`,
  );
  assertThat((await chat.locator('.chip[data-event="login"]').count()) === 0, 'The window login should not be shown as a chip.');
}

/**
 * The window opened with a model set up and an idle agent: the login turn ran at once, and its
 * greeting is shown quietly as MemGPT's own, not as an answer, with the welcome still there.
 */
async function loginRanAtOpen(chat: FrameLocator): Promise<void> {
  const greeting = chat.locator('article.msg.automatic', { hasText: GREETING });
  await greeting.waitFor({ state: 'visible' });
  const label = (await greeting.locator('.automatic-label').innerText()).trim();
  assertThat(label === 'On its own', `The greeting should say it was not a reply: ${JSON.stringify(label)}`);
  assertThat((await replies(chat).count()) === 0, 'The greeting should not be shown as an answer.');
  assertThat(await chat.locator('.welcome').isVisible(), 'The welcome stays until the user starts the conversation.');
  const asked = behaviour.model.chatRequests().map((r) => JSON.stringify(r.body.messages));
  assertThat(
    asked.length === 1 && asked[0]!.includes('\\"type\\":\\"login\\"'),
    `The model should have been asked once, by the login event alone: ${asked.length} request(s).`,
  );
  await composerReady(chat);
}

async function silentFailuresAreSaid(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  await say(chat, SNIPPET_QUESTION);
  await completeReply(chat, 0);
  const note = chat.locator('.action-note');
  // No editor is open in this window: Insert says so in the chat.
  assertThat((await tabLabels(ui)).length === 0, `No editor should be open yet: ${JSON.stringify(await tabLabels(ui))}`);
  await replies(chat).nth(0).locator('button[aria-label="Insert at cursor"]').click();
  await note.waitFor({ state: 'visible' });
  const insertNote = (await note.innerText()).trim();
  assertThat(/No editor is open/.test(insertNote), `Insert with no editor should say why in the chat: "${insertNote}"`);
  await note.locator('button[aria-label="Dismiss"]').click();
  await note.waitFor({ state: 'hidden' });
  // A citation to a file that is not there: said too.
  await replies(chat).nth(0).locator('a.citation', { hasText: 'src/gone/missing.ts:3' }).click();
  await note.waitFor({ state: 'visible' });
  const citationNote = (await note.innerText()).trim();
  assertThat(
    /^src\/gone\/missing\.ts does not exist in this workspace/.test(citationNote),
    `A citation to a missing file should say why in the chat, plainly: "${citationNote}"`,
  );
}

async function reusedIdsAndCards(chat: FrameLocator): Promise<void> {
  await say(chat, NAME_QUESTION);
  const second = await completeReply(chat, 1);
  assertThat(second === NAME_ANSWER, `The second answer should show: ${JSON.stringify(second)}`);
  const first = (await replies(chat).nth(0).innerText()).trim();
  assertThat(
    first.startsWith('Here it is'),
    `The first answer must not be overwritten by a reply with the same call id: ${JSON.stringify(first)}`,
  );
  const search = chat.locator('.card[data-function="conversation_search"]');
  await until(
    'one grouped search card',
    () => search.count(),
    (n) => n === 1,
  );
  const count = (await search.locator('.card-count').innerText()).trim();
  assertThat(count === '×3', `Three identical searches should be one card counting three: "${count}"`);
  const searchClass = (await search.getAttribute('class')) ?? '';
  assertThat(!searchClass.includes('status-Failed'), `A search past the last page is not a failure: ${searchClass}`);
  const header = chat.locator('.card[data-function="core_memory_append"] .card-header');
  const title = (await header.getAttribute('title')) ?? '';
  assertThat(
    title === `Remembered about you: “${REMEMBERED}”`,
    `The memory card should say what was remembered about whom, whole on hover: "${title}"`,
  );
}

export const scenarios: UiScenario[] = [
  {
    title:
      'chat polish: welcome, failures said, reused call ids, grouped cards, a failed turn restored, Search Memory opens the message, the core memory preview',
    server: behaviour.hook(scripts(), { login: sendMessage(GREETING) }),
    async run(ui) {
      let chat = await ui.openMemGptView();
      await firstRun(chat);
      await loginRanAtOpen(chat);
      await silentFailuresAreSaid(ui, chat);
      await reusedIdsAndCards(chat);

      await say(chat, FAILING_QUESTION);
      const error = chat.locator('.error-item');
      await error.waitFor({ state: 'visible' });
      const liveError = (await error.locator('.error-text').innerText()).trim();
      const liveRetry = await error.locator('button', { hasText: 'Retry' }).count();

      const requestsBeforeReload = behaviour.model.chatRequests().length;
      await ui.page.reload();
      chat = await chatAfterReload(ui);
      await chat.locator('article.msg.user', { hasText: FAILING_QUESTION }).waitFor({ state: 'visible' });
      const restored = chat.locator('.error-item');
      await restored.waitFor({ state: 'visible' });
      const restoredError = (await restored.locator('.error-text').innerText()).trim();
      assertThat(
        restoredError === liveError,
        `The reload should restore the error box: ${JSON.stringify(restoredError)} vs ${JSON.stringify(liveError)}`,
      );
      assertThat(
        (await restored.locator('button', { hasText: 'Retry' }).count()) === liveRetry,
        'Retry should be offered after the reload as it was before.',
      );
      const lastTwo = await chat.locator('.items > *').evaluateAll((els) => els.slice(-2).map((e) => e.className));
      assertThat(
        /msg user/.test(lastTwo[0] ?? '') && /error-item/.test(lastTwo[1] ?? ''),
        `The error should follow its question: ${JSON.stringify(lastTwo)}`,
      );
      assertThat((await chat.locator('.chip[data-event="login"]').count()) === 0, 'A reload should not add a login chip.');
      // The question is unanswered (Retry is offered for it): the reloaded window queues its login
      // instead of running a turn that would answer it unasked.
      assertThat(
        behaviour.model.chatRequests().length === requestsBeforeReload,
        `No model request should follow the reload: ${behaviour.model.chatRequests().length - requestsBeforeReload} did.`,
      );
      const restoredGreeting = chat.locator('article.msg.automatic', { hasText: GREETING });
      assertThat((await restoredGreeting.count()) === 1, 'The greeting at the first open should be restored as MemGPT’s own.');
      assertThat(await chat.locator('.welcome').isHidden(), 'The welcome is gone once there is a conversation.');

      // Search Memory: what the user said and MemGPT answered; a hit scrolls the chat to it.
      const rows = await searchMemoryFor(ui, 'Ada', NAME_QUESTION);
      const internal = rows.filter((r) => /^event |automated system message|function result|assistant called/i.test(r));
      assertThat(internal.length === 0, `Search Memory should list no internal events: ${JSON.stringify(internal)}`);
      const tabsBefore = await tabLabels(ui);
      await ui.page.locator('.quick-input-widget .monaco-list-row', { hasText: NAME_QUESTION }).first().click();
      const revealed = chat.locator('.revealed');
      await revealed.waitFor({ state: 'visible' });
      assertThat(
        (await revealed.innerText()).includes(NAME_QUESTION),
        `The chat should show the message found: ${await revealed.innerText()}`,
      );
      const tabsAfter = await tabLabels(ui);
      assertThat(JSON.stringify(tabsAfter) === JSON.stringify(tabsBefore), `No message-N.md tab should open: ${JSON.stringify(tabsAfter)}`);

      // The core memory picker leads with what was remembered last.
      await openPicker(ui, 'MemGPT: Show Core Memory', 'MemGPT: core memory');
      const human = await blockRow(ui, 'human');
      await human.waitFor({ state: 'visible' });
      const detail = (await human.innerText()).replace(/\s+/g, ' ');
      assertThat(detail.includes(REMEMBERED.slice(0, 20)), `The human block's preview should show what was just remembered: "${detail}"`);
      await closePicker(ui);
    },
  },
  {
    title:
      'chat polish screenshots: a turn with cards, Search Memory, the memory view and the first run, 240 and 400 px, light, dark and high contrast',
    server: pictures.hook(scripts()),
    async run(ui) {
      const chat = await ui.openMemGptView();
      await composerReady(chat);
      await say(chat, NAME_QUESTION);
      await completeReply(chat, 0);
      await chat.locator('.card[data-function="core_memory_append"] .card-header').click();
      for (const theme of THEMES) {
        await pickColorTheme(ui, theme.name);
        await chat.locator(`body.${theme.bodyClass}`).waitFor({ state: 'attached' });
        for (const width of WIDTHS) {
          await setSideBarWidth(ui, width);
          await settle(ui);
          await ui.screenshot(`chat-cards-${width}-${theme.file}`);
          await searchMemoryFor(ui, 'Ada', NAME_QUESTION);
          await ui.screenshot(`search-memory-${width}-${theme.file}`);
          await closePicker(ui);
          await openPicker(ui, 'MemGPT: Show Core Memory', 'MemGPT: core memory');
          await blockRow(ui, 'human');
          await ui.page.locator('.quick-input-widget input.input').press('Enter');
          await until(
            'the memory view to open the human block',
            () => tabLabels(ui),
            (t) => t.some((l) => l.startsWith('human')),
          );
          await settle(ui);
          await ui.screenshot(`memory-view-${width}-${theme.file}`);
          await ui.runCommand('View: Close All Editors');
        }
      }
      // The first run: Clear view (asked first) brings the welcome back.
      await chat.locator('button[aria-label^="Clear view"]').click();
      await chat.locator('.clear-confirm button', { hasText: 'Clear' }).click();
      await chat.locator('.welcome').waitFor({ state: 'visible' });
      for (const theme of THEMES) {
        await pickColorTheme(ui, theme.name);
        await chat.locator(`body.${theme.bodyClass}`).waitFor({ state: 'attached' });
        for (const width of WIDTHS) {
          await setSideBarWidth(ui, width);
          await settle(ui);
          await ui.screenshot(`first-run-${width}-${theme.file}`);
        }
      }
    },
  },
];

const WIDTHS = [240, 400] as const;
const THEMES = [
  { name: 'Light 2026', file: 'light', bodyClass: 'vscode-light' },
  { name: 'Dark 2026', file: 'dark', bodyClass: 'vscode-dark' },
  { name: 'Dark High Contrast', file: 'hc', bodyClass: 'vscode-high-contrast' },
];

/** The mouse off every toolbar (no hover tooltip in the picture), and a moment for the workbench to repaint. */
async function settle(ui: WorkbenchUi): Promise<void> {
  await ui.page.mouse.move(1250, 860);
  await ui.page.waitForTimeout(400);
}

/** Picks a colour theme as a user does: F1, "Preferences: Color Theme", the theme's name, Enter. */
async function pickColorTheme(ui: WorkbenchUi, name: string): Promise<void> {
  const page = ui.page;
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>Preferences: Color Theme');
  // Clicked, not Enter: "Browse Color Themes in Marketplace" may be the first row.
  await page.locator('.quick-input-widget .monaco-list-row').getByText('Preferences: Color Theme', { exact: true }).first().click();
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Dark Modern' }).first().waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: name }).first().waitFor({ state: 'visible' });
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Drags the sash on the side bar's edge until the side bar is `width` px wide. */
async function setSideBarWidth(ui: WorkbenchUi, width: number): Promise<void> {
  const page = ui.page;
  const bar = await page.locator('.part.sidebar').boundingBox();
  if (!bar) throw new Error('The side bar is not visible.');
  const edge = bar.x + bar.width;
  let sash: { x: number; y: number } | undefined;
  for (const box of await page
    .locator('.monaco-sash.vertical')
    .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) {
    const x = box.x + box.width / 2;
    if (Math.abs(x - edge) <= 4 && box.height > bar.height / 2) sash = { x, y: box.y + box.height / 2 };
  }
  if (!sash) throw new Error(`No sash found on the side bar's edge (x ${edge}).`);
  await page.mouse.move(sash.x, sash.y);
  await page.mouse.down();
  await page.mouse.move(bar.x + width, sash.y, { steps: 8 });
  await page.mouse.up();
  const after = await page.locator('.part.sidebar').boundingBox();
  if (!after || Math.abs(after.width - width) > 6) throw new Error(`The side bar is ${after?.width} px wide, not ${width}.`);
}
