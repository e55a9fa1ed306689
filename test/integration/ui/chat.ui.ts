import type { UiScenario } from '../../harness/ui';
import { ECHO_PREFIX } from '../support/echoBackend';
import { USE_ECHO_BACKEND_TITLE } from '../support/echoCommand';

export const scenarios: UiScenario[] = [
  {
    title: 'chat: a message typed in the webview reaches the host and its reply is shown',
    async run(ui) {
      const chat = await ui.openMemGptView();
      await ui.runCommand(USE_ECHO_BACKEND_TITLE);
      const input = chat.locator('textarea.composer-input');
      await input.waitFor({ state: 'visible' });
      await chat.locator('textarea.composer-input:not([disabled])').waitFor({ state: 'visible' });
      const message = `Where is the todo store? (${Date.now()})`;
      await input.fill(message);
      await input.press('Enter');
      await ui.expectText(chat.locator('article.msg.user'), message);
      await ui.expectText(chat.locator('article.msg.assistant'), `${ECHO_PREFIX}${message}`);
      await ui.screenshot('workbench-chat');
    },
  },
];
