/**
 * The sidebar chat on the REAL agent, in the real VS Code (code-server + Chromium): the extension's
 * own WorkspaceRuntime and AgentChatBackend talk to a scripted model server through the real
 * `openai` client. One dedicated server for a whole conversation (each costs 10-20 s to start):
 * streaming, the context meter, function cards, a citation into the editor, Ask About Selection,
 * and screenshots of the result in the light, dark and high-contrast themes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import type { UiScenario, WorkbenchUi } from '../../harness/ui';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import {
  activeTabLabel,
  assertThat,
  completeReply,
  composer,
  cursorStatus,
  ModelSlot,
  recordReplyGrowth,
  replies,
  runCommandWithInput,
  say,
  until,
} from './agentChatSupport';

const STREAMED =
  'The todo store keeps todos in memory only, in a Map keyed by id. Adding one checks the due date ' +
  'format first, then stores it; completing one flips its done flag. Nothing is written to disk, so a ' +
  'restart starts empty.';

const CITED = 'src/store/todoStore.ts:10-15';
const ANSWER_WITH_CODE = [
  `Use \`TodoStore.add\` (${CITED}). It checks the due date, then stores the todo:`,
  '',
  '```ts',
  'const store = new TodoStore();',
  "const todo = store.add('Write tests', 'high', '2026-12-01');",
  '```',
  '',
  'Call `complete(todo.id)` when it is done.',
].join('\n');

const SELECTION_QUESTION = 'What does this code do?';
const SELECTION_ANSWER = 'It adds a todo after checking that the due date looks like YYYY-MM-DD.';

const slot = new ModelSlot();

/** "Context window: 1,234 of 128,000 tokens …" → 1234. */
async function meterUsedTokens(chat: FrameLocator): Promise<number> {
  const label = (await chat.locator('button.meter').getAttribute('aria-label')) ?? '';
  const m = /Context window: ([\d,]+) of ([\d,]+) tokens/.exec(label);
  if (!m) throw new Error(`The context meter shows no measurement yet: "${label}"`);
  return Number(m[1]!.replace(/,/g, ''));
}

async function streamingReplyAndMeter(ui: WorkbenchUi, chat: FrameLocator): Promise<number> {
  const growth = await recordReplyGrowth(chat);
  await say(chat, 'Where is the todo store?');
  const text = await completeReply(chat, 0);
  assertThat(text === STREAMED, `The reply should be the streamed send_message text; got: ${JSON.stringify(text)}`);
  const steps = await growth.read();
  const partials = steps.filter((s) => s !== STREAMED);
  assertThat(
    partials.length >= 3,
    `The reply should appear in several steps while it streams; saw ${steps.length} distinct texts: ${JSON.stringify(steps)}`,
  );
  for (const [i, s] of steps.entries()) {
    assertThat(STREAMED.startsWith(s), `Streamed text #${i} is not a prefix of the final reply: ${JSON.stringify(s)}`);
    if (i > 0) assertThat(s.length > steps[i - 1]!.length, `The streamed text shrank at step ${i}: ${JSON.stringify(steps)}`);
  }
  const label = await chat.locator('.meter-label').innerText();
  assertThat(
    /^[\d.]+k? \/ [\d.]+k?$/.test(label.trim()),
    `The context meter should read "used / window" after a turn; it reads "${label}"`,
  );
  const used = await until(
    'the context meter to measure the window',
    () => meterUsedTokens(chat),
    (n) => n > 0,
  );
  await ui.screenshot('agent-chat-streamed');
  return used;
}

async function functionCards(chat: FrameLocator, usedBefore: number): Promise<void> {
  await say(chat, 'How do I add a todo? Search your memory.');
  await completeReply(chat, 1);
  const append = chat.locator('.card[data-function="core_memory_append"]');
  const search = chat.locator('.card[data-function="archival_memory_search"]');
  await append.and(chat.locator('.card.status-OK')).waitFor({ state: 'visible' });
  await search.and(chat.locator('.card.status-OK')).waitFor({ state: 'visible' });

  // Click: the search card opens with its arguments and result.
  const searchBody = search.locator('.card-body');
  assertThat(!(await searchBody.isVisible()), 'A function card should start collapsed.');
  await search.locator('.card-header').click();
  await searchBody.waitFor({ state: 'visible' });
  const searchText = await searchBody.innerText();
  assertThat(searchText.includes('archival_memory_search'), `The open card should name the function: ${searchText}`);
  assertThat(searchText.includes('"query": "TodoStore add todo"'), `The open card should show the arguments: ${searchText}`);
  const result = (await search.locator('.card-pre.result').innerText()).trim();
  assertThat(result.length > 0, 'The open search card should show the search result.');
  assertThat((await search.locator('.card-header').getAttribute('aria-expanded')) === 'true', 'aria-expanded should say the card is open.');

  // Keyboard: Enter on the focused header opens and closes the memory-edit card.
  const header = append.locator('.card-header');
  await header.focus();
  await header.press('Enter');
  const appendBody = append.locator('.card-body');
  await appendBody.waitFor({ state: 'visible' });
  const appendText = await appendBody.innerText();
  assertThat(appendText.includes('Works on the todo app in sample-workspace.'), `The memory edit's arguments should show: ${appendText}`);
  assertThat(/^result$/im.test(appendText), `The memory edit's result should show: ${appendText}`);
  await header.press('Enter');
  await appendBody.waitFor({ state: 'hidden' });

  const usedAfter = await until(
    'the meter to count the second turn',
    () => meterUsedTokens(chat),
    (n) => n > usedBefore,
  );
  assertThat(usedAfter > usedBefore, `The context meter should grow with the conversation (${usedBefore} → ${usedAfter}).`);
  const counts = await chat.locator('.meter-counts').innerText();
  assertThat(/\d+\s+\d+/.test(counts.replace(/\s+/g, ' ')), `The meter should show recall and archival counts: "${counts}"`);
}

async function citationOpensEditor(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const link = replies(chat).nth(1).locator('a.citation', { hasText: CITED });
  await link.waitFor({ state: 'visible' });
  assertThat((await link.getAttribute('data-path')) === 'src/store/todoStore.ts', 'The citation link should carry the path.');
  await link.click();
  await until(
    'the editor to show todoStore.ts',
    () => activeTabLabel(ui.page),
    (t) => t.split(',')[0] === 'todoStore.ts',
  );
  // Lines 10-15 selected: the cursor ends on line 15, after its last character.
  const lines = readFileSync(path.join(ui.workspaceFolder, 'src/store/todoStore.ts'), 'utf8').split('\n');
  const selected = lines.slice(9, 15).join('\n').length;
  const expected = `Ln 15, Col ${lines[14]!.length + 1} (${selected} selected)`;
  await until(
    'the status bar to show the cited range selected',
    () => cursorStatus(ui.page),
    (s) => s === expected,
  );
}

async function askAboutSelection(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  // The citation left lines 10-15 selected in the editor, which has focus.
  await runCommandWithInput(ui, 'MemGPT: Ask About Selection', 'Ask MemGPT about the selection', SELECTION_QUESTION);
  const question = chat.locator('article.msg.user', { hasText: SELECTION_QUESTION });
  await question.waitFor({ state: 'visible' });
  const shown = await question.innerText();
  assertThat(shown.includes('todoStore.ts:10-15'), `The question shown should name the selection: ${shown}`);
  const answer = await completeReply(chat, 2);
  assertThat(answer === SELECTION_ANSWER, `The answer to the selection question should show; got ${JSON.stringify(answer)}`);
  const sent =
    slot.model
      .chatRequests()
      .at(-1)
      ?.body.messages.map((m) => (typeof m.content === 'string' ? m.content : ''))
      .join('\n') ?? '';
  assertThat(sent.includes('if (due !== null'), 'The model should have received the selected code.');
}

type Theme = { name: string; file: string; bodyClass: string };
const THEMES: Theme[] = [
  // Labels as the theme picker of VS Code 1.139 shows them (the 2026 themes are its defaults).
  { name: 'Light 2026', file: 'agent-chat-light', bodyClass: 'vscode-light' },
  { name: 'Dark 2026', file: 'agent-chat-dark', bodyClass: 'vscode-dark' },
  { name: 'Dark High Contrast', file: 'agent-chat-hc', bodyClass: 'vscode-high-contrast' },
];

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

/** Drags the sash on the side bar's edge so the chat is wide enough to read in a screenshot. */
async function widenSideBar(ui: WorkbenchUi, width: number): Promise<void> {
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
  // Off the toolbars, so no hover tooltip shows in the screenshots.
  await page.mouse.move(bar.x + width + 300, bar.y + bar.height - 40);
  const after = await page.locator('.part.sidebar').boundingBox();
  if (!after || after.width < width - 20) throw new Error(`The side bar did not widen (width ${after?.width}).`);
}

async function themedScreenshots(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  // A conversation at a glance: the memory-edit card open, the long search result closed, the code block in view.
  await widenSideBar(ui, 560);
  await chat.locator('.card[data-function="archival_memory_search"] .card-header').click();
  await chat.locator('.card[data-function="archival_memory_search"] .card-body').waitFor({ state: 'hidden' });
  await chat.locator('.card[data-function="core_memory_append"] .card-header').click();
  await replies(chat).nth(1).locator('.code-block').scrollIntoViewIfNeeded();
  for (const theme of THEMES) {
    await pickColorTheme(ui, theme.name);
    await chat.locator(`body.${theme.bodyClass}`).waitFor({ state: 'attached' });
    // The click on the picker's row left the mouse over the view's title buttons: move it off, so
    // no hover tooltip covers the toolbar, and put the focus where a user would type.
    await ui.page.mouse.move(1250, 700); // the empty secondary side bar
    await composer(chat).focus();
    await ui.page.waitForTimeout(400); // the workbench repaints after the webview does
    await ui.screenshot(theme.file);
  }
}

export const scenarios: UiScenario[] = [
  {
    title: 'agent chat: streamed reply, context meter, function cards, a citation into the editor, Ask About Selection, themes',
    server: slot.hook([
      { match: 'Where is the todo store', steps: [sendMessage(STREAMED, { argumentChunkSize: 6, chunkDelayMs: 40 })] },
      {
        match: 'How do I add a todo',
        steps: [
          toolCall('core_memory_append', {
            label: 'human',
            content: 'Works on the todo app in sample-workspace.',
            request_heartbeat: true,
          }),
          toolCall('archival_memory_search', { query: 'TodoStore add todo', page: 0, request_heartbeat: true }),
          sendMessage(ANSWER_WITH_CODE, { argumentChunkSize: 12, chunkDelayMs: 5 }),
        ],
      },
      { match: SELECTION_QUESTION, steps: [sendMessage(SELECTION_ANSWER)] },
    ]),
    async run(ui) {
      const chat = await ui.openMemGptView();
      const used = await streamingReplyAndMeter(ui, chat);
      await functionCards(chat, used);
      await citationOpensEditor(ui, chat);
      await askAboutSelection(ui, chat);
      await themedScreenshots(ui, chat);
    },
  },
];
