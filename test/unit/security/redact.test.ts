import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, redactedErrorMessage, redactSecrets } from '../../../src/core/security/redact';

describe('redactSecrets', () => {
  const key = 'my-local-proxy-key-123456';

  it('removes a known secret wherever it appears, also URL-encoded', () => {
    const weird = 'p@ss word/with+chars';
    const text = `401 for key ${key} at http://x/?k=${encodeURIComponent(weird)} (${weird})`;
    const out = redactSecrets(text, [key, weird]);
    assert.ok(!out.includes(key));
    assert.ok(!out.includes(weird));
    assert.ok(!out.includes(encodeURIComponent(weird)));
    assert.equal(out.split(REDACTED).length - 1, 3);
  });

  it('removes key-shaped tokens it was never told about', () => {
    const text = [
      'Incorrect API key provided: sk-proj-AbCdEf0123456789abcdef0123.',
      'Authorization: Bearer abc.def-ghi_jkl/mno==',
      'GET /v1/models?api_key=zzzzzzzzzz&x=1',
      '{"apiKey": "qqqqqqqqqqqq"}',
    ].join('\n');
    const out = redactSecrets(text);
    assert.ok(!/sk-proj-AbCd/.test(out), out);
    assert.ok(!out.includes('abc.def-ghi'), out);
    assert.ok(!out.includes('zzzzzzzzzz'), out);
    assert.ok(!out.includes('qqqqqqqqqqqq'), out);
    assert.match(out, /Bearer \[redacted\]/);
    assert.match(out, /api_key=\[redacted\]&x=1/);
  });

  it('leaves ordinary text and tiny or empty "secrets" alone', () => {
    const text = 'The model server at http://127.0.0.1:11434/v1 refused the connection. Is Ollama running?';
    assert.equal(redactSecrets(text, ['', undefined, null, 'a', 'abc']), text);
  });

  it('redacts the message of any thrown value', () => {
    assert.equal(redactedErrorMessage(new Error(`bad key ${key}`), [key]), `bad key ${REDACTED}`);
    assert.equal(redactedErrorMessage(`bad key ${key}`, [key]), `bad key ${REDACTED}`);
  });
});
