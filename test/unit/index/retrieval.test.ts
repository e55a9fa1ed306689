/** A small, fast version of bench/retrieval.bench.ts: ranking regressions fail `npm test`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { ArchivalIndex, type SearchMode } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';

const FILES: Record<string, string> = {
  'src/http/router.js': `function Router() { this.stack = []; }
Router.prototype.handle = function handle(req, res, done) {
  // find the first layer whose path pattern matches the request and call its handler
  for (const layer of this.stack) {
    if (layer.regexp.test(req.url) && layer.method === req.method) return layer.handle(req, res, done);
  }
  done();
};
module.exports = Router;`,
  'src/http/static.js': `const fs = require('fs');
function serveStatic(rootDir) {
  return function (req, res, next) {
    const file = path.join(rootDir, decodeURIComponent(req.path));
    fs.createReadStream(file).on('error', next).pipe(res);
  };
}
module.exports = serveStatic;`,
  'src/util/backoff.js': `async function withRetry(fn, attempts) {
  let wait = 100;
  for (let i = 0; i < attempts; i++) {
    try { return await fn(); } catch (e) { await sleep(wait); wait = wait * 2; }
  }
  throw new Error('gave up');
}
module.exports = withRetry;`,
  'src/util/lru.js': `class LruCache {
  constructor(max) { this.max = max; this.map = new Map(); }
  get(key) { const v = this.map.get(key); if (v !== undefined) { this.map.delete(key); this.map.set(key, v); } return v; }
  set(key, v) { this.map.delete(key); this.map.set(key, v); if (this.map.size > this.max) this.map.delete(this.map.keys().next().value); }
}
module.exports = LruCache;`,
  'src/config/load.js': `function loadSettings(file, defaults) {
  const user = JSON.parse(fs.readFileSync(file, 'utf8'));
  return Object.assign({}, defaults, user);
}
module.exports = loadSettings;`,
  'src/auth/session.js': `function verifySessionCookie(cookieHeader, secret) {
  const token = parseCookies(cookieHeader).sid;
  if (!token || !hmacMatches(token, secret)) throw new Unauthorized('invalid session');
  return decodeSession(token);
}
module.exports = verifySessionCookie;`,
  'src/log/logger.js': `function createLogger(level) {
  const levels = ['debug', 'info', 'warn', 'error'];
  return Object.fromEntries(levels.map((l, i) => [l, (...args) => { if (i >= levels.indexOf(level)) console.log(\`[\${l}]\`, ...args); }]));
}
module.exports = createLogger;`,
  'README.md': '# tiny-web\n\nA small web framework: routing, static files, sessions, retries, caching, settings and logging.',
};

const QUESTIONS: { q: string; file: string }[] = [
  { q: 'which handler runs for an incoming request path', file: 'src/http/router.js' },
  { q: 'how are files on disk sent to the browser', file: 'src/http/static.js' },
  { q: 'try again with a growing delay when a call fails', file: 'src/util/backoff.js' },
  { q: 'evict the least recently used entry', file: 'src/util/lru.js' },
  { q: 'merge user options over the defaults', file: 'src/config/load.js' },
  { q: 'check that the login cookie is authentic', file: 'src/auth/session.js' },
  { q: 'print messages only above the chosen verbosity', file: 'src/log/logger.js' },
  { q: 'LruCache', file: 'src/util/lru.js' },
  { q: 'verifySessionCookie hmac', file: 'src/auth/session.js' },
];

test('hybrid ranking on a tiny workspace: every question finds its file in the top 3, two thirds at rank 1', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rq-'));
  for (const [p, t] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), t);
  }
  const archival = await ArchivalIndex.open({ dir: mkdtempSync(path.join(os.tmpdir(), 'rqi-')), embedder: new LocalHashEmbedder() });
  await new WorkspaceIndexer({ roots: [{ name: 'w', path: root }], archival }).indexAll();
  const score = async (mode: SearchMode): Promise<{ top1: number; top3: number; failures: string[] }> => {
    let top1 = 0;
    let top3 = 0;
    const failures: string[] = [];
    for (const { q, file } of QUESTIONS) {
      const paths = (await archival.search(q, { mode, pageSize: 5 })).hits.map((h) => h.path);
      if (paths[0] === file) top1++;
      else if (process.env.RANK_DEBUG) console.log(mode, q, '->', paths.join(', '));
      if (paths.slice(0, 3).includes(file)) top3++;
      else failures.push(`${q} -> ${paths.join(', ')}`);
    }
    return { top1, top3, failures };
  };
  const hybrid = await score('rrf');
  assert.equal(hybrid.top3, QUESTIONS.length, hybrid.failures.join('\n'));
  assert.ok(hybrid.top1 >= 6, `top-1 hits: ${hybrid.top1}/${QUESTIONS.length}`);
  const lexical = await score('lexical');
  assert.ok(hybrid.top1 >= lexical.top1, `hybrid ${hybrid.top1} vs lexical ${lexical.top1}`);
  await archival.close();
});
