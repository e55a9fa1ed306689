/**
 * Where the shared index lives and how we reach it. The connection string carries a password,
 * so it comes from SecretStorage (the editor), the environment (MEMGPT_POSTGRES_URL) or the
 * command line (`--store`, for CI jobs that take it from their own secret store), never from a
 * setting in clear; it is registered with the redactor so no log line or error can print it,
 * and our own messages name the server by host, port and database only.
 */
import { Client, type ClientConfig } from 'pg';
import { TEAM_CONNECT_TIMEOUT_MS, TEAM_QUERY_TIMEOUT_MS } from '../limits';
import { registerSecrets } from '../security/redact';
import { POSTGRES_URL_ENV } from './env';
import { TeamStoreError } from './teamError';

export { POSTGRES_URL_ENV } from './env';

export interface TeamConnection {
  /** The full connection string; never print it. */
  readonly url: string;
  /** `host:port/database`, safe for messages. */
  readonly display: string;
}

/** The connection string from the first source that has one (flag, secret, environment). */
export function resolveConnectionString(sources: {
  flag?: string;
  secret?: string;
  env?: NodeJS.ProcessEnv | Record<string, string | undefined>;
}): string | undefined {
  for (const v of [sources.flag, sources.secret, sources.env?.[POSTGRES_URL_ENV]]) {
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** Checks a postgres:// URL and registers its secret parts with the redactor. */
export function parseConnection(url: string): TeamConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TeamStoreError(
      'bad_url',
      'The shared index store is not a valid URL. Give postgres://user:password@host:5432/database (in MEMGPT_POSTGRES_URL or --store).',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new TeamStoreError(
      'bad_url',
      `The shared index store must be a postgres:// URL, not ${parsed.protocol}//… Give postgres://user:password@host:5432/database.`,
    );
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  registerSecrets(url, password, parsed.password || undefined);
  const database = parsed.pathname.replace(/^\//, '') || 'postgres';
  return { url, display: `${parsed.hostname}:${parsed.port || '5432'}/${database}` };
}

/** Removes the connection string and its password from any text (a driver's message may echo them). */
export function redactConnection(text: string, connection: TeamConnection): string {
  let out = text.split(connection.url).join(connection.display);
  try {
    const password = new URL(connection.url).password;
    for (const p of new Set([password, password ? decodeURIComponent(password) : ''])) {
      if (p) out = out.split(p).join('[redacted]');
    }
  } catch {
    // parseConnection already checked the URL
  }
  return out;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** A driver error as a TeamStoreError with words the user can act on. */
export function teamErrorFrom(err: unknown, connection: TeamConnection): TeamStoreError {
  if (err instanceof TeamStoreError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const raw = redactConnection(typeof e?.message === 'string' ? e.message : String(err), connection);
  if (UNREACHABLE_CODES.has(code) || /timeout|timed out|terminated|ended unexpectedly|Connection terminated/i.test(raw)) {
    return new TeamStoreError(
      'unreachable',
      `The shared index at ${connection.display} could not be reached (${raw}). Check that the server is up and reachable from here (host, port, firewall, VPN).`,
    );
  }
  return new TeamStoreError(
    'server_error',
    `The shared index at ${connection.display} refused the request${code ? ` (${code})` : ''}: ${raw}`,
  );
}

/**
 * A connected client with bounded connect and query times. The caller owns it (`end()`).
 * A server that drops the connection later emits 'error' on the client; it is swallowed here
 * (the next query fails and says so) rather than crashing the extension host.
 */
export async function connectTeamStore(
  connection: TeamConnection,
  options: { connectTimeoutMs?: number; queryTimeoutMs?: number } = {},
): Promise<Client> {
  const queryTimeout = options.queryTimeoutMs ?? TEAM_QUERY_TIMEOUT_MS;
  const config: ClientConfig = {
    connectionString: connection.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? TEAM_CONNECT_TIMEOUT_MS,
    application_name: 'memgpt',
  };
  if (queryTimeout > 0) config.query_timeout = queryTimeout;
  const client = new Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw teamErrorFrom(err, connection);
  }
  return client;
}
