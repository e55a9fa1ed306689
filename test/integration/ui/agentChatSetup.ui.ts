/**
 * First run on the REAL agent in the real VS Code: no model configured (no base URL, no key, no
 * OPENAI_* in the environment) shows the setup card; a server that is not there gets a clear error;
 * the scripted server's URL is validated with a real request, saved, and then chatting works.
 * One dedicated code-server.
 */
import type { UiScenario } from '../../harness/ui';
import { sendMessage } from '../../fixtures/fakeOpenAIServer';
import { assertThat, completeReply, composer, composerReady, MODEL, ModelSlot, say } from './agentChatSupport';

const GREETING = 'Hello! I am connected now.';
const slot = new ModelSlot();

export const scenarios: UiScenario[] = [
  {
    title: 'agent chat: first run shows the setup card; "use a server" validates the URL with a real request, then chatting works',
    server: slot.hook([{ match: 'are you there', steps: [sendMessage(GREETING)] }], { configured: false }),
    async run(ui) {
      const chat = await ui.openMemGptView();
      const card = chat.locator('.setup-card');
      await card.waitFor({ state: 'visible' });
      assertThat(await composer(chat).isDisabled(), 'The composer should wait until a model is connected.');

      // Nothing on the local ports here: the probe says so, with what to do.
      await card.getByRole('button', { name: 'Look for Ollama / LM Studio' }).click();
      const probe = card.locator('.setup-result.failed', { hasText: 'No server answered' });
      await probe.waitFor({ state: 'visible' });

      // A server that is not running: a real request fails and the card says what to check.
      const url = card.locator('#setup-url');
      const connect = card.getByRole('button', { name: 'Connect' });
      await url.fill('http://127.0.0.1:9/v1');
      await connect.click();
      const refused = card.locator('.setup-result.failed[role="alert"]', { hasText: 'did not answer as an OpenAI-compatible server' });
      await refused.waitFor({ state: 'visible' });
      const why = await refused.innerText();
      assertThat(
        /Could not reach the model server at http:\/\/127\.0\.0\.1:9\/v1/.test(why) && /running/.test(why),
        `The error should say what failed and what to check: ${why}`,
      );
      assertThat(await composer(chat).isDisabled(), 'A failed check must not unlock the chat.');
      await ui.screenshot('agent-chat-setup-card');

      // The scripted server: validated by listing its models, then saved (model: its first one).
      const modelsBefore = slot.model.requests.filter((r) => r.path.endsWith('/models')).length;
      await url.fill(slot.model.url);
      await connect.click();
      // The card goes as soon as the server works; its confirmation stays in the conversation.
      await chat.locator('.chip', { hasText: `Using ${MODEL} on ${slot.model.url}` }).waitFor({ state: 'visible' });
      const modelsAfter = slot.model.requests.filter((r) => r.path.endsWith('/models')).length;
      assertThat(modelsAfter > modelsBefore, 'The server should have been checked with a real GET /v1/models.');

      // The card gives way to the chat, which now talks to the server.
      await card.waitFor({ state: 'hidden' });
      await composerReady(chat);
      await ui.screenshot('agent-chat-setup-done');
      await say(chat, 'Hello, are you there?');
      assertThat((await completeReply(chat, 0)) === GREETING, 'The first message after setup should be answered by the configured server.');
      const chatRequest = slot.model.chatRequests().at(-1);
      assertThat(chatRequest?.body.model === MODEL, `The chat should use the saved model; it sent "${chatRequest?.body.model}".`);
    },
  },
];
