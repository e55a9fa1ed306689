import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChatHtml } from '../../../src/webview/html';

const resources = {
  cspSource: 'https://abc.vscode-cdn.net',
  nonce: 'AbC123xyz456DEF789ghi0',
  scriptUri: 'https://abc.vscode-cdn.net/ext/media/dist/webview.js',
  styleUri: 'https://abc.vscode-cdn.net/ext/media/chat.css',
  codiconUri: 'https://abc.vscode-cdn.net/ext/media/dist/codicon.css',
};

function policy(html: string): Map<string, string[]> {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(m, 'the page declares a Content-Security-Policy');
  return new Map(
    m[1]!
      .replace(/&#39;|&apos;/g, "'")
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values] as [string, string[]]),
  );
}

test('the CSP denies everything by default and allows only our script by nonce, our styles and font', () => {
  const html = renderChatHtml(resources);
  const csp = policy(html);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  assert.deepEqual(csp.get('script-src'), [`'nonce-${resources.nonce}'`]);
  assert.deepEqual(csp.get('style-src'), [resources.cspSource]);
  assert.deepEqual(csp.get('font-src'), [resources.cspSource]);
  assert.deepEqual(csp.get('img-src'), [resources.cspSource]);
  assert.deepEqual(csp.get('base-uri'), ["'none'"]);
  assert.deepEqual(csp.get('form-action'), ["'none'"]);
  for (const values of csp.values()) {
    for (const v of values) assert.ok(!/unsafe|\*|data:|blob:|https?:$/.test(v), `no loose source: ${v}`);
  }
  assert.ok(!csp.has('connect-src') && !csp.has('frame-src'), 'no network or frames beyond default-src none');
});

test('every script carries the nonce; no inline script, handler or style', () => {
  const html = renderChatHtml(resources);
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]![1]!, new RegExp(`nonce="${resources.nonce}"`));
  assert.match(scripts[0]![1]!, /src="https:\/\/abc\.vscode-cdn\.net\/ext\/media\/dist\/webview\.js"/);
  assert.equal(scripts[0]![2]!.trim(), '', 'no inline script body');
  assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handlers');
  assert.ok(!/<style|style=/i.test(html), 'no inline styles');
  assert.equal([...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].every((m) => m[1]!.startsWith(resources.cspSource)), true);
});

test('a fresh nonce per render is required to be letters and digits', () => {
  assert.throws(() => renderChatHtml({ ...resources, nonce: 'short' }), /nonce/);
  assert.throws(() => renderChatHtml({ ...resources, nonce: 'a"><script>alert(1)</script>aaaaaaaa' }), /nonce/);
});

test('resource URIs are attribute-escaped', () => {
  const html = renderChatHtml({ ...resources, styleUri: 'https://abc.vscode-cdn.net/a"><script>x</script>.css' });
  assert.ok(!html.includes('"><script>x'), 'a quote in a URI cannot close the attribute');
});
