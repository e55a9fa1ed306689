// The setup card offers VS Code's own language model first when the host reports one, in real headless Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { READY_STATE, startWebviewHarness, type WebviewHarness } from './support/webviewPage';

let harness: WebviewHarness;
before(async () => {
  harness = await startWebviewHarness();
});
after(async () => {
  await harness?.close();
});

describe('setup card: VS Code’s own model', () => {
  test('is offered first when available, posts useEditorModel, and shows the refusal in the host’s words', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({
      type: 'state',
      payload: { ...READY_STATE, setup: { configured: false, hasApiKey: false, editorModel: 'GPT-4.1 (copilot)' } },
    });
    await chat.answer('history', { records: [], hasMore: false });
    await p.waitForSelector('.setup-card');
    const first = p.locator('.setup-card .setup-section').first();
    assert.match((await first.textContent()) ?? '', /Use GPT-4\.1 \(copilot\).*no key or server needed/);
    await first.locator('button').click();
    const req = await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'useEditorModel');
    assert.deepEqual(req.type === 'request' && req.payload.params, {});
    await chat.answer('useEditorModel', {
      ok: false,
      message: "VS Code has not allowed MemGPT to use the language model 'copilot/gpt-4.1'.",
    });
    await p.waitForSelector('.setup-result.failed[role="alert"] >> text=has not allowed MemGPT');
    await p.close();
  });

  test('is not offered when the host has no editor model', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({ type: 'state', payload: { ...READY_STATE, setup: { configured: false, hasApiKey: false } } });
    await chat.answer('history', { records: [], hasMore: false });
    await p.waitForSelector('.setup-card');
    assert.equal(await p.locator('.setup-card button', { hasText: /^ ?Use .*\(/ }).count(), 0);
    assert.match((await p.locator('.setup-card .setup-section').first().textContent()) ?? '', /OpenAI API key/);
    await p.close();
  });
});
