/** Parsing with tree-sitter: definitions per language, and chunks that follow them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkStructured } from '../../../src/core/index/syntax/structuredChunker';
import { flattenDefinitions, type Definition } from '../../../src/core/index/syntax/outline';
import { TimeSlice } from '../../../src/core/index/slice';
import { GRAMMAR_FILES } from '../../../src/core/index/syntax/grammars';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One small file per language, each with a doc comment, a type with a method, and a free function. */
const SOURCES: Record<string, { file: string; text: string; expect: string[]; noCall?: boolean }> = {
  typescript: {
    file: 'src/cache.ts',
    text: `import { x } from './x';

/** Keeps the most recent entries. */
export class LruCache<K, V> {
  private map = new Map<K, V>();
  /** Reads a value and marks it recent. */
  get(key: K): V | undefined { return this.map.get(key); }
}

export const evictOldest = (c: LruCache<string, number>): void => { c.get('a'); };
export interface Options { max: number }
type Key = string;
`,
    expect: ['class LruCache', 'method LruCache.get', 'function evictOldest', 'interface Options', 'type Key'],
  },
  javascript: {
    file: 'lib/reply.js',
    text: `'use strict'
// Builds a reply object.
function Reply (res) { this.res = res }

/** Sends the payload. */
Reply.prototype.send = function (payload) { this.res.end(payload) }

module.exports = Reply
`,
    expect: ['function Reply', 'method Reply.send'],
    noCall: true,
  },
  python: {
    file: 'pkg/cache.py',
    text: `import os

class LruCache:
    """Keeps the most recent entries."""

    def get(self, key):
        """Reads a value and marks it recent."""
        return self.map.get(key)

@decorator
def evict_oldest(cache):
    cache.get("a")
`,
    expect: ['class LruCache', 'method LruCache.get', 'function evict_oldest'],
  },
  go: {
    file: 'cache/cache.go',
    text: `package cache

// LruCache keeps the most recent entries.
type LruCache struct {
	items map[string]int
}

// Get reads a value and marks it recent.
func (c *LruCache) Get(key string) int { return c.items[key] }

func EvictOldest(c *LruCache) { c.Get("a") }
`,
    expect: ['struct LruCache', 'method Get', 'function EvictOldest'],
  },
  rust: {
    file: 'src/cache.rs',
    text: `/// Keeps the most recent entries.
pub struct LruCache { items: Vec<i32> }

impl LruCache {
    /// Reads a value and marks it recent.
    pub fn get(&self, key: usize) -> i32 { self.items[key] }
}

pub trait Evict { fn evict(&mut self); }

fn evict_oldest(c: &LruCache) -> i32 { c.get(0) }
`,
    expect: ['struct LruCache', 'impl LruCache', 'method LruCache.get', 'trait Evict', 'function evict_oldest'],
  },
  java: {
    file: 'src/main/java/LruCache.java',
    text: `package cache;

/** Keeps the most recent entries. */
public class LruCache {
    /** Reads a value and marks it recent. */
    public int get(String key) { return 0; }
    public LruCache() {}
}
`,
    expect: ['class LruCache', 'method LruCache.get', 'method LruCache.LruCache'],
    noCall: true,
  },
  csharp: {
    file: 'Cache/LruCache.cs',
    text: `namespace Cache
{
    /// <summary>Keeps the most recent entries.</summary>
    public class LruCache
    {
        /// <summary>Reads a value and marks it recent.</summary>
        public int Get(string key) { return 0; }
        public int Count { get; set; }
    }
}
`,
    expect: ['module Cache', 'class Cache.LruCache', 'method Cache.LruCache.Get', 'property Cache.LruCache.Count'],
    noCall: true,
  },
  c: {
    file: 'src/cache.c',
    text: `#include <stdio.h>

/* Keeps the most recent entries. */
struct lru_cache { int items[16]; };

typedef struct lru_cache lru_t;

/* Reads a value and marks it recent. */
int lru_get(struct lru_cache *c, int key) { return c->items[key]; }
`,
    expect: ['struct lru_cache', 'type lru_t', 'function lru_get'],
    noCall: true,
  },
  cpp: {
    file: 'src/cache.cpp',
    text: `namespace cache {
// Keeps the most recent entries.
class LruCache {
 public:
  int get(int key);
};

// Reads a value and marks it recent.
int LruCache::get(int key) { return key; }
}
`,
    expect: ['module cache', 'class cache.LruCache', 'function cache.LruCache.get'],
  },
};

const label = (d: Definition): string => `${d.kind} ${d.container ? `${d.container}.` : ''}${d.name}`;

for (const [language, src] of Object.entries(SOURCES)) {
  test(`syntax: ${language} definitions with kind, container, doc comment and signature`, async () => {
    const r = await chunkStructured(src.file, src.text);
    assert.ok(r, `${language} is parsed`);
    const defs = flattenDefinitions(r.outline.definitions);
    const labels = defs.map(label);
    for (const e of src.expect) assert.ok(labels.includes(e), `${language}: expected "${e}" in ${JSON.stringify(labels)}`);
    // Every language's first type carries its doc comment, and its signature stops before the body.
    const first = defs.find((d) => /lru|reply/i.test(d.name) && d.kind !== 'module')!;
    assert.match(first.doc, /most recent entries|Builds a reply/, `${language}: doc comment of ${first.name}`);
    assert.ok(!first.signature.includes('{') || language === 'c', `${language}: signature without body: ${first.signature}`);
    // The file is covered by its chunks, and each chunk starts at a line boundary of a definition or after one.
    const covered = new Set<number>();
    for (const c of r.chunks) for (let l = c.startLine; l <= c.endLine; l++) covered.add(l);
    src.text.split('\n').forEach((line, i) => {
      if (line.trim() !== '') assert.ok(covered.has(i + 1), `${language}: line ${i + 1} is in a chunk`);
    });
    if (!src.noCall)
      assert.ok(
        r.outline.references.some(([name]) => /^(get|Get)$/.test(name)),
        `${language}: a reference to the getter`,
      );
  });
}

/** A file of many functions: small ones packed together, a class too large for one chunk cut between its methods. */
test('syntax: chunks follow definitions; a large class is cut between methods, each piece carrying the class as scope', async () => {
  const method = (i: number): string =>
    `  /** Handles case ${i}: reads the request, checks its headers and writes the answer. */\n  handle${i}(request, response) {\n` +
    Array.from({ length: 12 }, (_, k) => `    const value${k} = request.headers['x-header-${k}'] ?? response.defaults[${k}];`).join('\n') +
    `\n    return value0;\n  }\n`;
  const text = `/** A server with many handlers. */\nclass Server {\n${Array.from({ length: 8 }, (_, i) => method(i)).join('\n')}}\n\nfunction small1() { return 1 }\nfunction small2() { return 2 }\n`;
  const r = await chunkStructured('src/server.js', text, new TimeSlice(1));
  assert.ok(r);
  const lines = text.split('\n');
  const methodChunks = r.chunks.filter((c) => c.symbols?.some((s) => /^handle\d$/.test(s)));
  assert.ok(methodChunks.length >= 3, 'the class is cut into several chunks');
  for (const c of methodChunks) {
    assert.equal(c.symbols![0], 'Server', 'the scope comes first');
    // a piece starts at a method's doc comment (or the class header), never inside a method body
    assert.match(lines[c.startLine - 1]!, /^(\/\*\*|class Server| {2}\/\*\*)/, `chunk at line ${c.startLine} starts at a boundary`);
  }
  const tail = r.chunks[r.chunks.length - 1]!;
  assert.deepEqual(tail.symbols, ['small1', 'small2'], 'two small functions share one chunk');
});

test('syntax: a file without a grammar, or too large, is not parsed (the caller keeps the line chunker)', async () => {
  assert.equal(await chunkStructured('README.md', '# Title\n\ntext\n'), undefined);
  assert.equal(await chunkStructured('big.ts', `const a = 1;\n`.repeat(40_000)), undefined);
});

test('syntax: a parse past its time budget is cancelled with a coded error (the indexer then chunks by lines)', async () => {
  const text = 'export function f(a: number) { return a + 1; }\n'.repeat(1500);
  await assert.rejects(
    chunkStructured('slow.ts', text, new TimeSlice(), 0),
    (err: Error & { code?: string }) => err.code === 'PARSE_FAILED' && /stopped/.test(err.message),
  );
});

test('syntax: the bundle copies exactly the grammars the parser loads (esbuild.mjs)', () => {
  const build = readFileSync(path.join(__dirname, '..', '..', '..', 'esbuild.mjs'), 'utf8');
  const listed = /TREE_SITTER_GRAMMARS = \[([^\]]*)\]/
    .exec(build)![1]!
    .match(/'([a-z_]+)'/g)!
    .map((s) => `tree-sitter-${s.slice(1, -1)}.wasm`);
  assert.deepEqual([...listed].sort(), [...GRAMMAR_FILES].sort());
});
