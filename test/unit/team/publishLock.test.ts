/**
 * One writer per repository and commit, and a flip no reader sees half of, with separate real
 * sessions: a real PostgreSQL server (the machine image's; see realPostgres.ts), three client
 * connections, three server backends. PGlite cannot show this (one backend for every connection:
 * its advisory locks never exclude). That server has no pgvector, so this test drives the
 * publisher's own lock and flip functions on the real schema; the vector half of publishing runs
 * on PGlite in teamStore.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientBase } from 'pg';
import { connectTeamStore, parseConnection } from '../../../src/core/team/connection';
import { findPublish } from '../../../src/core/team/pgArchivalStore';
import { acquirePublishLock, makeLive, releasePublishLock, type PublishKey } from '../../../src/core/team/publisher';
import { MIGRATIONS } from '../../../src/core/team/schema';
import { isTeamStoreError } from '../../../src/core/team/teamError';
import { findPostgres, startRealPostgres } from './realPostgres';

const found = findPostgres();

test(
  'one writer per repository and commit: a second publisher fails clearly, a dead one frees the key, readers see the old publish or the new one',
  { skip: 'missing' in found ? `not proven here: ${found.missing}` : false, timeout: 180_000 },
  async () => {
    const pg = await startRealPostgres((found as { bin: string }).bin);
    const connection = parseConnection(pg.url);
    const writerA = await connectTeamStore(connection);
    const writerB = await connectTeamStore(connection);
    const reader = await connectTeamStore(connection);
    try {
      // The schema's own statements (they need no vectors).
      for (const m of MIGRATIONS) for (const sql of m.statements) await writerA.query(sql);
      const pid = async (c: ClientBase): Promise<number> => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const pids = [await pid(writerA), await pid(writerB), await pid(reader)];
      assert.equal(new Set(pids).size, 3, 'three sessions on three server backends');

      const key: PublishKey = { repoId: 'repo-lock', commit: 'f'.repeat(40), embedderId: 'local-hash-384' };
      await acquirePublishLock(writerA, connection, key);
      const busy = await acquirePublishLock(writerB, connection, key).then(
        () => assert.fail('a second writer got the lock of the same repository and commit'),
        (e: unknown) => e,
      );
      assert.ok(isTeamStoreError(busy, 'publish_busy'), String(busy));
      assert.match((busy as Error).message, /Another job is publishing repo-lock at ffffffffffff .*this one stops/);
      // Another commit of the same repository is not held back.
      const other: PublishKey = { ...key, commit: '0'.repeat(40) };
      await acquirePublishLock(writerB, connection, other);
      await releasePublishLock(writerB, other);

      // The first writer's session dies mid-publish (no unlock): the server frees the key.
      await reader.query('SELECT pg_terminate_backend($1)', [pids[0]]);
      let took = false;
      for (let i = 0; i < 50 && !took; i++) {
        took = await acquirePublishLock(writerB, connection, key).then(
          () => true,
          async () => {
            await new Promise((r) => setTimeout(r, 100));
            return false;
          },
        );
      }
      assert.ok(took, 'the next writer takes over once the dead session is gone');

      // Writer B publishes twice; the reader, on its own session, looks while the second flip is open.
      const embedder = { id: key.embedderId, dimensions: 384 };
      const stage = async (chunks: number): Promise<number> => {
        const r = await writerB.query<{ id: string }>(
          `INSERT INTO memgpt_publishes (repo_id, commit_sha, embedder_id, dimensions, state, chunk_table, chunks) VALUES ($1, $2, $3, 384, 'staging', 'memgpt_chunks_0', $4) RETURNING id`,
          [key.repoId, key.commit, key.embedderId, chunks],
        );
        const id = Number(r.rows[0]!.id);
        await writerB.query('UPDATE memgpt_publishes SET chunk_table = $1 WHERE id = $2', [`memgpt_chunks_${id}`, id]);
        return id;
      };
      const first = await stage(100);
      await assert.rejects(findPublish(reader, connection, key.repoId, key.commit, embedder), (e: unknown) =>
        isTeamStoreError(e, 'not_published'),
      );
      await makeLive(writerB, key, { id: first, chunks: 100, files: 5 });
      assert.equal((await findPublish(reader, connection, key.repoId, key.commit, embedder)).id, first);

      const second = await stage(200);
      assert.equal((await findPublish(reader, connection, key.repoId, key.commit, embedder)).id, first, 'a staged publish is invisible');
      const seenMidFlip: number[] = [];
      const liveMidFlip: number[] = [];
      const liveCount = async (): Promise<number> =>
        Number(
          (
            await reader.query<{ n: string }>(
              `SELECT count(*) AS n FROM memgpt_publishes WHERE repo_id = $1 AND commit_sha = $2 AND state = 'live'`,
              [key.repoId, key.commit],
            )
          ).rows[0]!.n,
        );
      // The writer's connection, pausing just before COMMIT so the reader looks inside the open flip.
      const pausing = {
        query: async (sql: string, params?: unknown[]) => {
          if (sql === 'COMMIT') {
            seenMidFlip.push((await findPublish(reader, connection, key.repoId, key.commit, embedder)).id);
            liveMidFlip.push(await liveCount());
          }
          return writerB.query(sql, params);
        },
      } as unknown as ClientBase;
      const retired = await makeLive(pausing, key, { id: second, chunks: 200, files: 5 });
      assert.deepEqual(seenMidFlip, [first], 'inside the open flip the reader still sees the old publish, whole');
      assert.deepEqual(liveMidFlip, [1], 'never none and never two live');
      assert.deepEqual(
        retired.map((r) => Number(r.id)),
        [first],
      );
      const after = await findPublish(reader, connection, key.repoId, key.commit, embedder);
      assert.deepEqual([after.id, after.chunks], [second, 200]);
      assert.equal(await liveCount(), 1);

      // A flip whose staged row another writer removed changes nothing: the live publish stays.
      const third = await stage(300);
      await reader.query('DELETE FROM memgpt_publishes WHERE id = $1', [third]);
      await assert.rejects(makeLive(writerB, key, { id: third, chunks: 300, files: 5 }), (e: unknown) =>
        isTeamStoreError(e, 'publish_busy'),
      );
      assert.equal((await findPublish(reader, connection, key.repoId, key.commit, embedder)).id, second);
      await releasePublishLock(writerB, key);
    } finally {
      for (const c of [writerA, writerB, reader]) await c.end().catch(() => undefined);
      await pg.stop();
    }
  },
);
