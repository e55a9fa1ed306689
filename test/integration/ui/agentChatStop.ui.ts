/**
 * Stop and reload on the REAL agent in the real VS Code: Stop halts a long stream at once (the
 * model request is cancelled, the partial answer stays, marked), the next message works, and a
 * reload of the workbench restores the conversation from recall memory, the stopped answer still
 * marked. One dedicated code-server.
 */
import type { FrameLocator } from 'playwright-core';
import type { UiScenario } from '../../harness/ui';
import { sendMessage } from '../../fixtures/fakeOpenAIServer';
import { assertThat, chatAfterReload, completeReply, composerReady, ModelSlot, replies, say, until } from './agentChatSupport';

const SENTENCE = 'The todo store keeps every todo in a Map keyed by its id, checks due dates, and sorts open work first. ';
// ~2,000 characters in 4-character fragments every 40 ms: over a minute, far longer than any wait
// here, so only a real cancellation lets the next message through in time.
const LONG = SENTENCE.repeat(20).trim();
const LONG_QUESTION = 'Tell me everything about the store';
const SHORT_QUESTION = 'Short answer please';
const SHORT_ANSWER = 'Short answer: todos live in a Map, in memory only.';

const slot = new ModelSlot();

async function replyText(chat: FrameLocator, index: number): Promise<string> {
  return ((await replies(chat).nth(index).locator('.msg-body').textContent()) ?? '').replace('MemGPT is writing…', '').trim();
}

export const scenarios: UiScenario[] = [
  {
    title: 'agent chat: Stop halts a long stream at once, the next message works, a reload restores the conversation',
    server: slot.hook([
      { match: LONG_QUESTION, steps: [sendMessage(LONG, { argumentChunkSize: 4, chunkDelayMs: 40 })] },
      { match: SHORT_QUESTION, steps: [sendMessage(SHORT_ANSWER)] },
    ]),
    async run(ui) {
      let chat = await ui.openMemGptView();
      await say(chat, LONG_QUESTION);
      await until(
        'the long answer to stream',
        () => replyText(chat, 0),
        (t) => t.length > 80,
      );
      const stop = chat.locator('.stop-button');
      assertThat(await stop.isVisible(), 'Stop should be offered while the answer streams.');
      await stop.click();

      // The model request is cancelled: the server sees the client hang up mid-stream.
      const request = slot.model.chatRequests().at(-1)!;
      await until(
        'the model request to be cancelled',
        async () => request.closedEarly === true,
        (v) => v,
        10_000,
      );
      const answer = replies(chat).nth(0);
      await answer.locator('.partial-note').waitFor({ state: 'visible' });
      assertThat((await answer.getAttribute('class'))?.includes('partial') === true, 'The stopped answer should be marked partial.');
      // The host then reports the text it stored; from there on nothing may change.
      await ui.page.waitForTimeout(500);
      const kept = await replyText(chat, 0);
      await ui.page.waitForTimeout(1500);
      const later = await replyText(chat, 0);
      assertThat(later === kept, `The stopped answer must not grow: ${kept.length} then ${later.length} characters.`);
      assertThat(
        LONG.startsWith(kept) && kept.length >= 80 && kept.length < LONG.length / 2,
        `The partial answer should be kept as streamed (${kept.length} of ${LONG.length} characters).`,
      );

      // The composer is usable again, and the agent answers the next message.
      await composerReady(chat);
      assertThat(!(await stop.isVisible()), 'Stop should be gone once the turn is stopped.');
      await say(chat, SHORT_QUESTION);
      assertThat((await completeReply(chat, 1)) === SHORT_ANSWER, 'The message after Stop should be answered.');
      await ui.screenshot('agent-chat-stopped');

      // A reload of the workbench: the conversation comes back from recall memory.
      await ui.page.reload();
      chat = await chatAfterReload(ui);
      await chat.locator('article.msg.user', { hasText: SHORT_QUESTION }).waitFor({ state: 'visible' });
      const users = (await chat.locator('article.msg.user').allInnerTexts()).map((t) => t.trim());
      assertThat(
        JSON.stringify(users) === JSON.stringify([LONG_QUESTION, SHORT_QUESTION]),
        `The restored conversation should hold both questions in order: ${JSON.stringify(users)}`,
      );
      await until(
        'both answers to be restored',
        () => replies(chat).count(),
        (n) => n === 2,
      );
      assertThat((await replyText(chat, 0)) === kept, 'The restored stopped answer should be exactly what was kept.');
      await replies(chat).nth(0).locator('.partial-note').waitFor({ state: 'visible' });
      assertThat((await replyText(chat, 1)) === SHORT_ANSWER, 'The restored second answer should be complete.');
      const stored = await replies(chat).nth(1).getAttribute('class');
      assertThat(stored?.includes('complete') === true, `The second answer should be complete after the reload (${stored}).`);
      await ui.screenshot('agent-chat-restored');
      const draft = await chat.locator('textarea.composer-input').inputValue();
      assertThat(
        draft === '',
        `The composer should be empty after the reload (the sent message is no draft); it holds ${JSON.stringify(draft)}`,
      );

      // The reloaded window still chats (its memory is writable, not left locked by the old one).
      await say(chat, SHORT_QUESTION);
      assertThat((await completeReply(chat, 2)) === SHORT_ANSWER, 'The reloaded window should answer a new message.');
    },
  },
];
