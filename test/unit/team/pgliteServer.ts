/**
 * A real PostgreSQL wire-protocol server with pgvector on 127.0.0.1 for the team-store tests:
 * PGlite (Postgres compiled to WebAssembly, in this process) behind pglite-socket. Nothing is
 * installed and nothing leaves the machine. PGlite is one backend shared by every connection
 * (the socket server queues their queries, and a transaction holds the others back), so
 * session state such as advisory locks is shared too: exclusion between two writers cannot be
 * shown here; publishLock.test.ts shows it on a real PostgreSQL server.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface TestServer {
  /** postgres://… with a password, so tests can check it never shows. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const TEST_PASSWORD = 'pw-Zq8vX3-never-logged';

export async function startPgliteServer(): Promise<TestServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  const conn = server.getServerConn();
  const port = Number(conn.split(':').pop());
  return {
    url: `postgres://memgpt:${TEST_PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
