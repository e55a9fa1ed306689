import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecrets, maskSecretsDeep, redactSecrets, SECRET_MARKER } from '../../../src/core/security/redact';

describe('maskSecrets (stored and model-facing text)', () => {
  const samples: Record<string, string> = {
    openai: 'sk-proj-AbCdEf0123456789abcdef0123',
    anthropic: 'sk-ant-api03-AbCdEf0123456789abcdef0123-xyzAA',
    githubClassic: 'ghp_0123456789abcdefghijABCDEFGHIJ012345',
    githubOAuth: 'gho_0123456789abcdefghijABCDEFGHIJ012345',
    githubFineGrained: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789',
    aws: 'AKIAIOSFODNN7EXAMPLE',
    slack: 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp',
    google: 'AIzaSyA-0123456789abcdefghijklmnopqrstu',
    stripe: 'sk_live_0123456789abcdefABCDEF',
    gitlab: 'glpat-0123456789abcdefghij',
    huggingface: 'hf_0123456789abcdefghijABCDEFGHIJkl',
    jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  };
  for (const [name, secret] of Object.entries(samples)) {
    it(`masks a ${name} key, also inside JSON`, () => {
      const text = `The key is ${secret}, keep it.`;
      assert.equal(maskSecrets(text), `The key is ${SECRET_MARKER}, keep it.`);
      const json = JSON.stringify({ content: text });
      const masked = maskSecrets(json);
      assert.ok(!masked.includes(secret));
      assert.equal((JSON.parse(masked) as { content: string }).content, `The key is ${SECRET_MARKER}, keep it.`, 'the JSON stays valid');
    });
  }

  it('masks a whole private key block, raw or JSON-escaped, terminated or not', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0123456789abcdef\nQWERTY0123456789+/==\n-----END RSA PRIVATE KEY-----';
    assert.equal(maskSecrets(`key:\n${pem}\nend`), `key:\n${SECRET_MARKER}\nend`);
    const json = JSON.stringify({ content: `key: ${pem}` });
    assert.equal((JSON.parse(maskSecrets(json)) as { content: string }).content, `key: ${SECRET_MARKER}`);
    const cut = JSON.stringify({ content: 'key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B' });
    assert.equal((JSON.parse(maskSecrets(cut)) as { content: string }).content, `key: ${SECRET_MARKER}`);
  });

  it('masks known secrets in any shape, as written, URL-encoded and JSON-escaped', () => {
    const key = 'corp "gw" key/with+chars';
    const text = `a ${key} b ${encodeURIComponent(key)} c ${JSON.stringify(key)}`;
    assert.equal(maskSecrets(text, [key]), `a ${SECRET_MARKER} b ${SECRET_MARKER} c "${SECRET_MARKER}"`);
    assert.equal(maskSecrets(JSON.stringify({ v: key }), [key]), JSON.stringify({ v: SECRET_MARKER }));
  });

  it('masks random-looking values after Bearer and secret names, not ordinary prose or code', () => {
    assert.equal(maskSecrets('Authorization: Bearer abc123DEF456ghi789jkl'), `Authorization: Bearer ${SECRET_MARKER}`);
    assert.equal(maskSecrets('api_key=Zx81kkqpLm90QwErTy12'), `api_key=${SECRET_MARKER}`);
    assert.equal(
      maskSecrets('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'),
      `AWS_SECRET_ACCESS_KEY = "${SECRET_MARKER}"`,
    );
    const prose = [
      'Use Bearer authentication for the API; the apiKey: string field holds it.',
      'const apiKey = process.env.OPENAI_API_KEY; // api_key: config.apiKey',
      'The task-runner and risk-assessment modules; skip-navigation links.',
      'See https://github.com/org/repo/blob/main/src/app.ts#L10 and commit 0123456789abcdef0123456789abcdef01234567.',
    ].join('\n');
    assert.equal(maskSecrets(prose), prose);
  });

  it('masks every string of a JSON value, leaving numbers and structure alone', () => {
    const key = 'sk-ant-api03-AbCdEf0123456789abcdef0123';
    const value = { a: [key, 3, null, { b: `x ${key}` }], n: 1 };
    assert.deepEqual(maskSecretsDeep(value), { a: [SECRET_MARKER, 3, null, { b: `x ${SECRET_MARKER}` }], n: 1 });
  });

  it('errors keep their loose rules and now also catch the new formats', () => {
    assert.equal(redactSecrets('token ghp_0123456789abcdefghijABCDEFGHIJ012345 rejected'), 'token [redacted] rejected');
    assert.equal(redactSecrets('Authorization: Bearer abc.def-ghi_jkl/mno=='), 'Authorization: Bearer [redacted]');
  });
});
