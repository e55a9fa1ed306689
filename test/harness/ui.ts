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
 * `expectText(locator, text)`, `updateSettings(obj)` (async: rewrites User/settings.json, then opens
 * and saves it in the workbench, which does not watch the file), `workspaceFolder` (absolute path of
 * the first folder of the window; '' with none), `workspaceFolders` ({name, path} of each),
 * `openWindow(contents)` (loads other contents into the same page: File > Open).
 * Themes: `await ui.updateSettings({ 'workbench.colorTheme': 'Dark 2026' })` (ids as in VS Code
 * 1.139's theme-defaults: 'Light 2026', 'Dark 2026', 'Default High Contrast', …), or the picker.
 * Modal dialogs are REAL in UI scenarios (the workbench skips them only when a test runner is
 * loaded, i.e. in-host): a click that asks "Open this link?" shows `.monaco-dialog-box`; answer it.
 *
 * What the window opens: by default a copy of sample-workspace/ (shared by the scenarios of the
 * shared server). A scenario sets `workspace` for its own (test/harness/windowContents.ts):
 *   workspace: { files: { 'javascript:alert(1).md': '…' } }            // sample copy + extra files
 *   workspace: { folders: [{ name: 'api', source: 'sample-workspace' },
 *                          { name: 'web', source: 'test/fixtures/ui/web-client' }] } // multi-root
 *   workspace: 'no-folder'                                               // an empty window
 *
 * A scenario that needs its own server configuration (e.g. `memgpt.baseUrl` pointing at a scripted
 * model server and OPENAI_API_KEY in the host's environment) sets `server`: the harness calls it
 * before starting a dedicated code-server for that scenario and `dispose()`s what it returns after.
 * Time-outs: HARNESS_UI_SCENARIO_TIMEOUT_MS per scenario, HARNESS_UI_WAIT_MS per wait (limits.ts).
 * On failure the harness saves artifacts/screenshots/failed-<scenario>.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { HARNESS_UI_PALETTE_RETRY_MS, HARNESS_UI_WAIT_MS } from '../../src/core/limits';
import { writeUserSettings } from './codeServer';
import type { OpenedFolder, PreparedWindow, WindowContents } from './windowContents';

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
  /** What the window opens (test/harness/windowContents.ts). Default: the session's copy of sample-workspace/. */
  workspace?: WindowContents;
}

export const MEMGPT_EXTENSION_ID = 'memgpt-vscode.memgpt-vscode';
/** MemGPT's status-bar entry (src/vscode/statusBar.ts creates it with the id `memgpt.status`). */
const MEMGPT_STATUS_ITEM = `.statusbar-item[id="${MEMGPT_EXTENSION_ID}.memgpt.status"]`;

export class WorkbenchUi {
  constructor(
    readonly page: Page,
    private window: PreparedWindow,
    private readonly userDataDir: string,
    private readonly artifactsDir: string,
    private readonly reopen: (contents: WindowContents) => Promise<PreparedWindow>,
  ) {}

  /** Absolute path of the window's first workspace folder; '' in a window with no folder. */
  get workspaceFolder(): string {
    return this.window.folders[0]?.path ?? '';
  }

  /** The window's workspace folders (names as VS Code and the agent show them), in order. */
  get workspaceFolders(): readonly OpenedFolder[] {
    return this.window.folders;
  }

  /**
   * Loads other contents into this page (fresh copies; `'no-folder'` for an empty window), as
   * File > Open would: the old window's extension host goes, a new one starts on the same server.
   */
  async openWindow(contents: WindowContents): Promise<void> {
    this.window = await this.reopen(contents);
  }

  /**
   * The activity-bar entry of MemGPT. It is not a readiness signal on its own: the workbench
   * restores view containers it saw before (same browser profile) as placeholders, before the
   * remote host has scanned the extension, so a second window shows the item early.
   */
  async waitForMemGptActivityItem(): Promise<Locator> {
    const item = this.page.locator('.activitybar .action-item a[aria-label^="MemGPT"]').first();
    await item.waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    return item;
  }

  /**
   * Waits until MemGPT has activated in this window: its status-bar entry exists only once
   * `activate` ran, which needs the extension scanned (so its commands are in the palette) and
   * registered its commands.
   */
  async waitForMemGptReady(): Promise<void> {
    await this.waitForMemGptActivityItem();
    await this.page.locator(MEMGPT_STATUS_ITEM).first().waitFor({ state: 'attached', timeout: HARNESS_UI_WAIT_MS });
  }

  /** The chat webview's content frame (two iframes deep; the outer one names our extension). */
  chatFrame(): FrameLocator {
    return this.page.frameLocator(`iframe.webview.ready[src*="extensionId=${MEMGPT_EXTENSION_ID}"]`).frameLocator('#active-frame');
  }

  /**
   * Opens the MemGPT chat and waits until it has rendered. Through the command "MemGPT: Open Chat"
   * (it focuses the view, never toggles it): clicking the activity-bar item closed a side bar the
   * workbench had restored open after a reload, because the item is marked `checked` only some time
   * after it appears.
   */
  async openMemGptView(): Promise<FrameLocator> {
    await this.waitForMemGptReady();
    await this.runCommand('MemGPT: Open Chat');
    const chat = this.chatFrame();
    await chat.locator('textarea.composer-input').waitFor({ state: 'attached', timeout: HARNESS_UI_WAIT_MS });
    return chat;
  }

  /**
   * Runs a command by its palette title ("Category: Title"), as a user would with F1. The palette
   * lists the commands known when it opened and never refreshes while open, so when the row does
   * not show within HARNESS_UI_PALETTE_RETRY_MS it is closed and opened again, until
   * HARNESS_UI_WAIT_MS has passed; the error then names what the palette offered.
   */
  async runCommand(title: string): Promise<void> {
    const deadline = Date.now() + HARNESS_UI_WAIT_MS;
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    const row = widget.locator('.monaco-list-row', { hasText: title }).first();
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: Math.max(1, deadline - Date.now()) });
      await input.fill(`>${title}`);
      const wait = Math.max(1, Math.min(HARNESS_UI_PALETTE_RETRY_MS, deadline - Date.now()));
      const found = await row.waitFor({ state: 'visible', timeout: wait }).then(
        () => true,
        () => false,
      );
      if (found) break;
      const offered = await widget
        .locator('.monaco-list-row')
        .allInnerTexts()
        .catch(() => [] as string[]);
      await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: HARNESS_UI_WAIT_MS });
      if (Date.now() >= deadline) {
        throw new Error(
          `The command palette did not offer "${title}" within ${HARNESS_UI_WAIT_MS} ms (${attempt} openings); it offered: ${JSON.stringify(offered.slice(0, 5))}`,
        );
      }
    }
    await input.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: HARNESS_UI_WAIT_MS });
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

  /**
   * Merges into User/settings.json and makes the workbench apply it. The web workbench does not
   * watch that file for writes from outside (measured: no setting, the colour theme included,
   * changed within 20 s), but it reads the file when "Preferences: Open User Settings (JSON)" opens
   * it and reloads the configuration when that editor saves a change; so: write, open, add a
   * trailing space, save, close.
   * Callers wait for the effect they need (e.g. the chat's body class after a theme change); the
   * theme picker ("Preferences: Color Theme", see agentChat.ui.ts) is the other route to a theme.
   */
  async updateSettings(settings: Record<string, unknown>): Promise<void> {
    const file = writeUserSettings(this.userDataDir, settings);
    const written = readFileSync(file, 'utf8');
    await this.runCommand('Preferences: Open User Settings (JSON)');
    const lastKey = Object.keys(settings).at(-1);
    const editor = this.page.locator('.editor-group-container.active .monaco-editor').first();
    if (lastKey !== undefined) {
      await editor.locator('.view-lines', { hasText: `"${lastKey}"` }).waitFor({ state: 'visible', timeout: HARNESS_UI_WAIT_MS });
    }
    // A real edit (a trailing space, harmless in JSON), so the workbench really writes the file:
    // saving it unchanged did not always reload the configuration. Done when the write landed.
    await editor.click();
    await this.page.keyboard.press('Control+End');
    await this.page.keyboard.type(' ');
    await this.page.keyboard.press('Control+S');
    const deadline = Date.now() + HARNESS_UI_WAIT_MS;
    while (readFileSync(file, 'utf8') === written) {
      if (Date.now() > deadline)
        throw new Error(`The workbench did not save ${file} within ${HARNESS_UI_WAIT_MS} ms, so the new settings may not apply.`);
      await this.page.waitForTimeout(100);
    }
    await this.runCommand('View: Close Editor');
  }
}
