/**
 * The team store from the command line, as CI and a developer use it: `memgpt index --publish`
 * publishes the checked-out commit, `memgpt search` with MEMGPT_SHARED_STORE reads it with the
 * local changes laid over, and an unreachable store fails or falls back without printing the
 * connection string. Its own PGlite server, so it runs beside teamStore.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoIdFromRemote } from '../../../src/core/team/repoIdentity';
import { TEST_PASSWORD } from './pgliteServer';
import { useTeamServer } from './teamFixture';

const team = useTeamServer();
const { tmp } = team;

const FILES: Record<string, string> = {
  'src/router.ts':
    'export function matchRoute(routes: Route[], url: string): Route | undefined {\n  return routes.find((r) => r.pattern.test(url));\n}\n',
  'src/retry.ts': 'export async function withBackoff<T>(attempt: () => Promise<T>): Promise<T> {\n  return attempt();\n}\n',
  'src/cookies.ts':
    'export function parseCookieHeader(header: string): Map<string, string> {\n  return new Map(header.split(";").map((p) => p.split("=") as [string, string]));\n}\n',
  'docs/readme.md': '# Project\n\nA tiny web framework with routing, cookies and retries.\n',
};

const writeWorkspace = (files: Record<string, string>): string => team.writeWorkspace(files, 'team-cli-ws-');

function cli(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(OPENAI_|MEMGPT_)/.test(k)) clean[k] = v;
  const main = path.resolve(__dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
}

test('team: `memgpt index --publish` publishes the checked-out commit from CI; `memgpt search` reads it with local changes laid over', async () => {
  const root = writeWorkspace(FILES);
  git(root, 'init', '-q');
  git(root, 'remote', 'add', 'origin', 'https://ci-token@github.com/acme/team-demo.git');
  git(root, 'add', '.');
  git(root, 'commit', '-q', '-m', 'first');
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  const ciState = tmp('team-ci-state-');
  const pub = await cli(['index', root, '--publish', '--json'], { MEMGPT_STATE_DIR: ciState, MEMGPT_POSTGRES_URL: team.server.url });
  assert.equal(pub.code, 0, pub.stderr);
  const published = (JSON.parse(pub.stdout) as { published: { commit: string; repoId: string; chunks: number; server: string } }).published;
  assert.equal(published.commit, head);
  assert.equal(published.repoId, repoIdFromRemote('git@github.com:acme/team-demo.git'));
  assert.ok(published.chunks >= 4);
  assert.match(published.server, /^127\.0\.0\.1:\d+\/postgres$/);

  // a developer's clone with an uncommitted change, searching with the shared store on
  writeFileSync(path.join(root, 'src/router.ts'), 'export function kiwiRouteResolver(): void {\n  // resolves routes from a trie\n}\n');
  rmSync(path.join(root, 'src/cookies.ts'));
  const devState = tmp('team-dev-state-');
  const devEnv = { MEMGPT_STATE_DIR: devState, MEMGPT_POSTGRES_URL: team.server.url, MEMGPT_SHARED_STORE: 'auto' };
  // not indexed here yet: the shared index answers, minus files gone from disk
  const before = await cli(['search', root, 'parseCookieHeader retry withBackoff', '--json', '-k', '10'], devEnv);
  assert.equal(before.code, 0, before.stderr);
  const beforePaths = (JSON.parse(before.stdout) as { results: { path: string }[] }).results.map((h) => h.path);
  assert.ok(beforePaths.includes('src/retry.ts'), before.stdout);
  assert.ok(!beforePaths.includes('src/cookies.ts'), 'a deleted file never shows');
  // indexing here leaves the two files with the published content to the shared index
  const devIndex = await cli(['index', root, '--json'], devEnv);
  assert.equal(devIndex.code, 0, devIndex.stderr);
  const devRun = JSON.parse(devIndex.stdout) as { indexed: number; shared: number; archival: { workspace: number } };
  assert.deepEqual([devRun.indexed, devRun.shared], [1, 2], devIndex.stdout);
  assert.ok(devRun.archival.workspace < published.chunks, 'fewer chunks here than published');
  const unchanged = await cli(['search', root, 'withBackoff attempt', '--json'], devEnv);
  const unchangedHits = (JSON.parse(unchanged.stdout) as { results: { path: string; text: string }[] }).results;
  assert.ok(
    unchangedHits.some((h) => h.path === 'src/retry.ts' && h.text.includes('withBackoff')),
    `an unchanged file is answered by the shared index: ${unchanged.stdout}`,
  );
  const search = await cli(['search', root, 'kiwiRouteResolver trie', '--json'], devEnv);
  assert.equal(search.code, 0, search.stderr);
  const hits = (JSON.parse(search.stdout) as { results: { path: string; text: string }[] }).results;
  assert.equal(hits[0]?.path, 'src/router.ts');
  assert.match(hits[0]!.text, /kiwiRouteResolver/, 'the uncommitted version wins');
  assert.ok(
    hits.every((h) => !h.text.includes('matchRoute')),
    'the published version of the changed file never shows',
  );
  for (const out of [pub.stdout, pub.stderr, search.stdout, search.stderr]) assert.ok(!out.includes(TEST_PASSWORD), out);

  // publishing from a machine that reads the shared index still publishes every file, not just its own changes
  const republish = await cli(['index', root, '--publish', '--json', '--repo-id', 'other-repo', '--commit', 'd'.repeat(40)], devEnv);
  assert.equal(republish.code, 0, republish.stderr);
  const again = JSON.parse(republish.stdout) as { shared: number; published: { files: number } };
  assert.deepEqual([again.shared, again.published.files], [0, 3], republish.stdout);

  // an unreachable store: publishing fails with exit 4 and words, never the password
  const bad = `postgres://ci:${TEST_PASSWORD}@127.0.0.1:1/postgres`;
  const down = await cli(['index', root, '--store', bad], { MEMGPT_STATE_DIR: ciState });
  assert.equal(down.code, 4, down.stderr);
  assert.match(down.stderr, /unreachable.*127\.0\.0\.1:1\/postgres/s);
  assert.ok(!down.stderr.includes(TEST_PASSWORD) && !down.stdout.includes(TEST_PASSWORD), down.stderr);
  // (searching with the store down answers from the local index: teamStore.test.ts, at the API)
});
