/**
 * @memgpt in VS Code's own Chat view (secondary side bar), in the real workbench: the user types
 * "@memgpt …" there and the MemGPT agent answers with the model picked in that view (a scripted
 * chat-model provider the companion test extension registers; MemGPT itself has no model set up,
 * so the picker's model is the one that answers). The answer streams in as markdown, its citation
 * is an anchor that opens the file, and follow-ups are offered. One dedicated code-server (the
 * Chat view is hidden in the shared one).
 */
import type { UiScenario } from '../../harness/ui';
import { REGISTER_SCRIPTED_MODELS_TITLE } from '../support/echoCommand';
import { assertThat } from './agentChatSupport';

export const scenarios: UiScenario[] = [
  {
    title: 'chat participant: @memgpt answers in the native Chat view, with a citation that opens the file and follow-ups',
    server: async () => ({ settings: { 'chat.disableAIFeatures': false } }),
    async run(ui) {
      await ui.waitForMemGptReady();
      await ui.runCommand(REGISTER_SCRIPTED_MODELS_TITLE);
      const input = ui.page.locator('.interactive-input-part .monaco-editor').first();
      await input.waitFor({ state: 'visible' });
      await input.click();
      await ui.page.keyboard.type('@memgpt where is the search code?');
      // The command opened the Chat view with the scripted model picked.
      await ui.page.locator('.interactive-input-part').getByText('Scripted Model').first().waitFor({ state: 'visible' });
      await ui.page.keyboard.press('Enter');

      const response = ui.page.locator('.interactive-item-container.interactive-response').last();
      await ui.expectText(response, 'Scripted answer to:');
      const answer = await response.innerText();
      assertThat(/MemGPT/.test(answer), `The answer should come from MemGPT: ${answer}`);
      assertThat(/where is the search code\?/.test(answer), `The agent should have passed the question to the model: ${answer}`);
      assertThat(!/Language model unavailable/.test(answer), `The picked model should answer: ${answer}`);

      // The citation is an anchor under the answer; clicking it opens the file.
      const anchor = response.locator('a.chat-inline-anchor-widget[aria-label="search.ts lines 1 to 3"]').first();
      await anchor.waitFor({ state: 'visible' });
      const followup = ui.page.getByText('Explain src/search.ts in more detail', { exact: true }).first();
      await followup.waitFor({ state: 'visible' });
      await ui.screenshot('chat-participant-answer');
      await anchor.click();
      await ui.page.locator('.tabs-container .tab.active', { hasText: 'search.ts' }).waitFor({ state: 'visible' });

      // The same agent and memory: the MemGPT view shows the exchange too.
      const chat = await ui.openMemGptView();
      await ui.expectText(chat.locator('article.msg.assistant').last(), 'Scripted answer to:');
    },
  },
];
