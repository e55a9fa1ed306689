/**
 * A real PostgreSQL server on 127.0.0.1 for the tests that need separate sessions (PGlite is one
 * backend shared by every connection, so its advisory locks never exclude anyone). It uses the
 * PostgreSQL server of the machine image (Debian's postgresql-15 under /usr/lib/postgresql).
 * Debian bookworm has no pgvector package for it, so the parts of publishing that need vectors run
 * on it only where pgvector was installed into that server (see findPgvector); they skip otherwise.
 * PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RealPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The newest server binaries found, or why there are none (the test then says so and skips). */
export function findPostgres(): { bin: string } | { missing: string } {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) return { missing: `no PostgreSQL server under ${root} (Debian package postgresql)` };
  const asRoot = process.getuid?.() === 0;
  if (asRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) return { missing: 'running as root and there is no postgres user' };
  return { bin: path.join(root, versions[0]!, 'bin') };
}

/**
 * Whether pgvector is installed into the server found by findPostgres (its control file sits
 * in the server's share directory), or why not.
 */
export function findPgvector(bin: string): { ok: true } | { missing: string } {
  const config = spawnSync(path.join(bin, 'pg_config'), ['--sharedir'], { encoding: 'utf8' });
  const share = config.status === 0 ? config.stdout.trim() : path.join('/usr/share/postgresql', path.basename(path.dirname(bin)));
  const control = path.join(share, 'extension', 'vector.control');
  return existsSync(control)
    ? { ok: true }
    : { missing: `pgvector is not installed into this PostgreSQL (no ${control}; Debian bookworm has no postgresql-15-pgvector package)` };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRealPostgres(bin: string): Promise<RealPostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'memgpt-pg-'));
  const data = path.join(dir, 'data');
  if (asRoot) {
    const pgUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const pgGid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, pgUid, pgGid);
  }
  const run = (cmd: string, args: string[]): string[] => (asRoot ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args]);
  const [initCmd, ...initArgs] = run(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'memgpt', '--no-sync', '-E', 'UTF8']);
  const init = spawnSync(initCmd!, initArgs, { encoding: 'utf8', timeout: 120_000 });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const [cmd, ...args] = run(path.join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
  ]);
  const server: ChildProcess = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (log.includes('ready to accept connections')) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      throw new Error(`PostgreSQL did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `postgres://memgpt@127.0.0.1:${port}/postgres`,
    async stop() {
      const exited = new Promise<void>((r) => server.once('exit', () => r()));
      try {
        // SIGINT: "fast" shutdown (disconnects clients); the group includes runuser.
        process.kill(-server.pid!, 'SIGINT');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
