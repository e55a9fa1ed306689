/**
 * UI scenarios: tests that drive the real workbench and the chat webview from the page (Playwright),
 * against the same offline code-server as the in-host suites.
 *
 * Writing one: create test/integration/ui/<name>.ui.ts exporting `scenarios: UiScenario[]`.
 * The harness finds it (no registration) and runs each scenario in a fresh browser context on a
 * workbench that has MemGPT and the echo test extension loaded and a copy of sample-workspace/ open.
 *
 *   import type { UiScenario } from '../../harness/ui';
 *   export const scenarios: UiScenario[] = [{
 *     title: 'chat answers',
 *     async run(ui) {
 *       const chat = await ui.openMemGptView();              // webview FrameLocator
 *       await ui.runCommand('MemGPT Test: Use Echo Backend'); // F1 + title + Enter
 *       await chat.locator('textarea.composer-input').fill('hi');
 *       await chat.locator('textarea.composer-input').press('Enter');
 *       await ui.expectText(chat.locator('article.msg.assistant'), 'Echo: hi');
 *       await ui.screenshot('chat-answers');                  // artifacts/screenshots/chat-answers.png
 *     },
 *   }];
 *
 * `ui` (WorkbenchUi): `page` (Playwright Page, for anything else), `waitForMemGptActivityItem()`,
 * `openMemGptView()`, `chatFrame()`, `runCommand(title)`, `notifications()` (texts in the
 * Notification Center: toasts are suppressed by the smoke-test driver), `screenshot(name)`,
 * `expectText(locator, text)`, `updateSettings(obj)` (rewrites User/settings.json; VS Code applies
 * it live), `workspaceFolder` (absolute path of the opened copy).
 *
 * A scenario that needs its own server configuration (e.g. `memgpt.baseUrl` pointing at a scripted
 * model server and OPENAI_API_KEY in the host's environment) sets `server`: the harness calls it
 * before starting a dedicated code-server for that scenario and `dispose()`s what it returns after.
 * Time-outs: HARNESS_UI_SCENARIO_TIMEOUT_MS per scenario, HARNESS_UI_WAIT_MS per wait (limits.ts).
 * On failure the harness saves artifacts/screenshots/failed-<scenario>.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { HARNESS_UI_WAIT_MS } from '../../src/core/limits';
import { writeUserSettings } from './codeServer';

export interface ServerNeeds {
  /** Merged into User/settings.json before the server starts. */
  settings?: Record<string, unknown>;
  /** Environment of the server and its extension host. */
  env?: Record<string, string>;
  /** Keep workspace trust on (the folder opens in Restricted Mode), for restricted-mode scenarios. */
  workspaceTrust?: boolean;
  /** Called after the scenario (stop a scripted model server, …). */
  dispose?: () => Promise<void> | void;
}

export interface UiScenario {
  title: string;
  run(ui: WorkbenchUi): Promise<void>;
  server?: () => Promise<ServerNeeds>;
}

export const MEMGPT_EXTENSION_ID = 'memgpt-vscode.memgpt-vscode';

export class WorkbenchUi {
  constructor(
    readonly page: Page,
    readonly workspaceFolder: string,
    private readonly userDataDir: string,
    private readonly artifactsDir: string,
  ) {}

  /** The activity-bar entry of MemGPT; contributions appear only after the remote host scanned the extension. */
  async waitForMemGptActivityItem(): Promise<Locator> {
    const item = this.page.locator('.activitybar .action-item a[aria-label^="MemGPT"]').first();
    await item.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    return item;
  }

  /** The chat webview's content frame (two iframes deep; the outer one names our extension). */
  chatFrame(): FrameLocator {
    return this.page
      .frameLocator(`iframe.webview.ready[src*="extensionId=${MEMGPT_EXTENSION_ID}"]`)
      .frameLocator('#active-frame');
  }

  /** Opens the MemGPT side bar (unless already open) and waits until the chat has rendered. */
  async openMemGptView(): Promise<FrameLocator> {
    const item = await this.waitForMemGptActivityItem();
    const checked = await item.getAttribute('aria-expanded').catch(() => null);
    const container = item.locator('xpath=..');
    const active = (await container.getAttribute('class'))?.includes('checked') || checked === 'true';
    if (!active) await item.click();
    const chat = this.chatFrame();
    await chat.locator('textarea.composer-input').waitFor({ state: 'attached', timeout: HARNESS_UI_WAIT_MS });
    return chat;
  }

  /** Runs a command by its palette title ("Category: Title"), as a user would with F1. */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    await input.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: HARNESS_UI_WAIT_MS });
  }

  /** Texts of the notifications in the Notification Center (opened, read, closed). */
  async notifications(): Promise<string[]> {
    await this.runCommand('Notifications: Show Notifications');
    const center = this.page.locator('.notifications-center');
    await center.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    const texts = await center.locator('.notification-list-item-message').allInnerTexts();
    await this.page.keyboard.press('Escape');
    return texts.map((t) => t.trim());
  }

  /** Waits until `locator` (first match) contains `text`. */
  async expectText(locator: Locator, text: string): Promise<void> {
    const target = locator.filter({ hasText: text }).first();
    try {
      await target.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    } catch {
      const seen = await locator.allInnerTexts().catch(() => [] as string[]);
      throw new Error(`Expected text "${text}" did not appear within ${HARNESS_UI_WAIT_MS} ms; found: ${JSON.stringify(seen)}`);
    }
  }

  /** Saves a full-page screenshot to artifacts/screenshots/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const dir = path.join(this.artifactsDir, 'screenshots');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Merges into the user settings; the workbench picks the change up live. */
  updateSettings(settings: Record<string, unknown>): void {
    writeUserSettings(this.userDataDir, settings);
  }
}
