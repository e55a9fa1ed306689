import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChatHtml } from '../../../src/webview/html';

const resources = {
  cspSource: 'https://abc.vscode-cdn.net',
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
  assert.deepEqual(csp.get('script-src'), [`'nonce-${nonceOf(html)}'`]);
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
  assert.match(scripts[0]![1]!, new RegExp(`nonce="${nonceOf(html)}"`));
  assert.match(scripts[0]![1]!, /src="https:\/\/abc\.vscode-cdn\.net\/ext\/media\/dist\/webview\.js"/);
  assert.equal(scripts[0]![2]!.trim(), '', 'no inline script body');
  assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handlers');
  assert.ok(!/<style|style=/i.test(html), 'no inline styles');
  assert.equal(
    [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].every((m) => m[1]!.startsWith(resources.cspSource)),
    true,
  );
});

/** The nonce a page allows scripts by (from its CSP). */
function nonceOf(html: string): string {
  const values = policy(html).get('script-src') ?? [];
  assert.equal(values.length, 1);
  const m = /^'nonce-([^']+)'$/.exec(values[0]!);
  assert.ok(m, `script-src allows one nonce: ${values[0]}`);
  return m[1]!;
}

test('every render has a fresh nonce of 128+ random bits, used only by the CSP and the script tag', () => {
  // A nonce an attacker can predict (a constant, a counter, a clock) lets injected markup carry it.
  const renders = 200;
  const nonces = Array.from({ length: renders }, () => renderChatHtml(resources)).map((html) => {
    const nonce = nonceOf(html);
    assert.match(nonce, /^[0-9a-f]+$/, 'hex: it cannot break out of an attribute');
    assert.ok(nonce.length * 4 >= 128, `${nonce.length * 4} bits`);
    assert.equal(html.split(nonce).length - 1, 2, 'the nonce appears in the CSP and in the one script tag, nowhere else');
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), `${tag} carries this render's nonce`);
    return nonce;
  });
  assert.equal(new Set(nonces).size, renders, 'no nonce is ever reused');
  // Randomness, not just uniqueness: with 200 draws every hex digit of the nonce takes many values
  // (a counter or a timestamp keeps its leading digits fixed).
  const width = Math.min(...nonces.map((n) => n.length));
  for (let i = 0; i < width; i++) {
    const seen = new Set(nonces.map((n) => n[i]));
    assert.ok(seen.size >= 8, `digit ${i} took only ${seen.size} values in ${renders} renders`);
  }
});

test('resource URIs are attribute-escaped', () => {
  const html = renderChatHtml({ ...resources, styleUri: 'https://abc.vscode-cdn.net/a"><script>x</script>.css' });
  assert.ok(!html.includes('"><script>x'), 'a quote in a URI cannot close the attribute');
});
