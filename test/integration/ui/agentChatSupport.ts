/**
 * Shared by the agentChat*.ui.ts scenarios: a scripted model server per scenario (the REAL agent
 * in the extension host talks to it through the real `openai` client), and small readers of the
 * chat webview and the workbench. Not a scenario file itself (the harness loads only *.ui.ts).
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { HARNESS_UI_WAIT_MS } from '../../../src/core/limits';
import type { ServerNeeds, WorkbenchUi } from '../../harness/ui';
import {
  startFakeOpenAIServer,
  turnResponder,
  type FakeOpenAIServer,
  type FakeStep,
  type TurnScript,
} from '../../fixtures/fakeOpenAIServer';

export const MODEL = 'gpt-4o-mini';

export interface ScriptedModelOptions {
  /** Default true; false leaves baseUrl and model empty, for the first-run card. */
  configured?: boolean;
  /**
   * How the model answers the login turn a configured window runs when it opens (default: a
   * thought, no message). See turnResponder.
   */
  login?: FakeStep;
}

/**
 * Starts a scripted model server and returns it with the `server` hook's needs: the chat
 * configured for it (`configured: false` leaves baseUrl and model empty, for the first-run card).
 * The environment is emptied of every model setting so the machine's own never leak in.
 */
export async function scriptedModel(
  scripts: TurnScript[],
  options: ScriptedModelOptions = {},
): Promise<{ model: FakeOpenAIServer; needs: ServerNeeds }> {
  const model = await startFakeOpenAIServer({
    models: [MODEL],
    responder: turnResponder(scripts, options.login ? { login: options.login } : {}),
  });
  const configured = options.configured ?? true;
  return {
    model,
    needs: {
      settings: configured ? { 'memgpt.baseUrl': model.url, 'memgpt.model': MODEL } : { 'memgpt.baseUrl': '', 'memgpt.model': '' },
      env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '', MEMGPT_MODEL: '', OPENAI_MODEL: '' },
      dispose: () => model.close(),
    },
  };
}

/** The scenario's server, started by its `server` hook (the harness calls that before `run`). */
export class ModelSlot {
  private current: FakeOpenAIServer | undefined;

  hook(scripts: TurnScript[], options: ScriptedModelOptions = {}): () => Promise<ServerNeeds> {
    return async () => {
      const { model, needs } = await scriptedModel(scripts, options);
      this.current = model;
      return needs;
    };
  }

  get model(): FakeOpenAIServer {
    if (!this.current) throw new Error('The scripted model server was not started: the scenario needs its `server` hook.');
    return this.current;
  }
}

export function composer(chat: FrameLocator): Locator {
  return chat.locator('textarea.composer-input');
}

/** Waits until the composer takes input (the agent is ready and no setup card blocks it). */
export async function composerReady(chat: FrameLocator): Promise<void> {
  await chat.locator('textarea.composer-input:not([disabled])').waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await chat.locator('.send-button').waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
}

/** Types a message as a user would and presses Enter. */
export async function say(chat: FrameLocator, text: string): Promise<void> {
  await composerReady(chat);
  const input = composer(chat);
  await input.click();
  await input.fill(text);
  await input.press('Enter');
}

/** The assistant messages (send_message bubbles), in order. */
export function replies(chat: FrameLocator): Locator {
  return chat.locator('article.msg.assistant');
}

/**
 * Waits for the n-th (0-based) reply to be complete and returns its text. A turn may chain many
 * model calls, so the wait is for progress, not for a fixed time: it fails only when the
 * conversation (its items and their text) has not changed for HARNESS_UI_WAIT_MS. The scenario's
 * own time-out still bounds the whole.
 */
export async function completeReply(chat: FrameLocator, index: number): Promise<string> {
  const reply = replies(chat).nth(index);
  const done = reply.and(chat.locator('article.msg.assistant.complete'));
  const items = chat.locator('.items');
  let seen = '';
  let changedAt = Date.now();
  for (;;) {
    if (await done.isVisible()) return (await reply.innerText()).trim();
    const now = await items.textContent({ timeout: HARNESS_UI_WAIT_MS }).catch(() => '');
    if (now !== seen) {
      seen = now ?? '';
      changedAt = Date.now();
    } else if (Date.now() - changedAt > HARNESS_UI_WAIT_MS) {
      const count = await replies(chat).count();
      throw new Error(
        `Reply ${index + 1} was not complete and the conversation had not changed for ${HARNESS_UI_WAIT_MS} ms (${count} replies shown).`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until `read` returns a value `accept` likes; fails with the last value seen. */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  accept: (v: T) => boolean,
  timeoutMs = HARNESS_UI_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let failure: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      failure = undefined;
      if (accept(last)) return last;
    } catch (e) {
      failure = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const seen = failure instanceof Error ? `error: ${failure.message}` : JSON.stringify(last);
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
}

/**
 * Records every distinct text of the newest assistant message as the DOM changes, from inside the
 * webview (a MutationObserver), so a test sees the stream grow, not only its end.
 */
export async function recordReplyGrowth(chat: FrameLocator): Promise<{ read(): Promise<string[]> }> {
  // A string, not a function: tsx compiles functions with a `__name` helper the page does not have.
  await chat.locator('.items').evaluate(`(() => {
    const items = document.querySelector('.items');
    const seen = [];
    window.__replyTexts = seen;
    new MutationObserver(() => {
      const all = items.querySelectorAll('article.msg.assistant .msg-body');
      const last = all[all.length - 1];
      const text = last ? (last.textContent || '').replace('MemGPT is writing…', '').trim() : '';
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(items, { childList: true, subtree: true, characterData: true });
  })()`);
  return {
    read: () => chat.locator('.items').evaluate('[...window.__replyTexts]') as Promise<string[]>,
  };
}

/** "2.3k / 128k" → used tokens (approximate from the label), or null while the meter is empty. */
export function meterTokens(label: string): number | null {
  const m = /^([\d.]+)(k?)\s*\/\s*([\d.]+)(k?)$/.exec(label.trim());
  if (!m) return null;
  return Number(m[1]) * (m[2] ? 1000 : 1);
}

/** The workbench's active editor tab as announced, e.g. "todoStore.ts, preview" (its name comes first). */
export async function activeTabLabel(page: Page): Promise<string> {
  const tab = page.locator('.editor-group-container.active .tabs-container .tab.active').first();
  await tab.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  return ((await tab.getAttribute('aria-label')) ?? '').trim();
}

/** The status bar's cursor / selection item, e.g. "Ln 15, Col 4 (212 selected)". */
export async function cursorStatus(page: Page): Promise<string> {
  const item = page.locator('#status\\.editor\\.selection').first();
  await item.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  return (await item.innerText()).trim();
}

/** Runs a command whose own input box follows (F1, the title, Enter; then types `answer` and Enter). */
export async function runCommandWithInput(ui: WorkbenchUi, title: string, boxTitle: string, answer: string): Promise<void> {
  const page = ui.page;
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.fill(`>${title}`);
  await page
    .locator('.quick-input-widget .monaco-list-row', { hasText: title })
    .first()
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.press('Enter');
  await page
    .locator('.quick-input-widget .quick-input-title', { hasText: boxTitle })
    .waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
  await input.fill(answer);
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: HARNESS_UI_WAIT_MS });
}

export function assertThat(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/**
 * The chat after a reload. The workbench restores the open side bar by itself, and clicking the
 * activity item then would close it (`openMemGptView` cannot tell it is open in this DOM), so only
 * a closed side bar is opened.
 */
export async function chatAfterReload(ui: WorkbenchUi): Promise<FrameLocator> {
  await ui.waitForMemGptReady();
  const sideBarTitle = ui.page.locator('.part.sidebar .title-label', { hasText: 'MemGPT' });
  const restored = await sideBarTitle.waitFor({ state: 'visible', timeout: 5_000 }).then(
    () => true,
    () => false,
  );
  if (!restored) return ui.openMemGptView();
  const chat = ui.chatFrame();
  await chat.locator('textarea.composer-input').waitFor({ state: 'attached', timeout: HARNESS_UI_WAIT_MS });
  return chat;
}
