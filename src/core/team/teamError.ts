import { MemgptError } from '../base/errors';

/**
 * The one error shape of the shared PostgreSQL store: words for the user (what happened, why, what to do)
 * plus a code, so the CLI, the runtime and the tests branch on the code, never on the wording.
 * Messages never contain the connection string (it carries a password): see `redactUrl`.
 */
export type TeamErrorCode =
  /** No connection string: neither MEMGPT_POSTGRES_URL, --store nor SecretStorage has one. */
  | 'no_connection'
  /** The connection string is not a postgres:// URL. */
  | 'bad_url'
  /** The server could not be reached or did not answer within the time-out. */
  | 'unreachable'
  /** The server was reached but refused us (password, database, permission) or a query failed. */
  | 'server_error'
  /** The server lacks the pgvector extension and we may not create it. */
  | 'no_pgvector'
  /** The schema was written by a newer MemGPT than this one. */
  | 'schema_too_new'
  /** The server has no MemGPT schema yet (nothing was ever published). */
  | 'no_schema'
  /** Nothing is published for this repository (and embedder). */
  | 'not_published'
  /** Another publisher holds the lock of this repository and commit. */
  | 'publish_busy'
  /** Vectors of the publish and of this embedder differ (model or size). */
  | 'embedder_mismatch'
  /** The shared store is read-only from an editor (memories stay local). */
  | 'read_only'
  /** git could not tell the commit or the repository. */
  | 'no_git';

export class TeamStoreError extends MemgptError<TeamErrorCode> {}

export function isTeamStoreError(err: unknown, ...codes: readonly TeamErrorCode[]): err is TeamStoreError {
  return err instanceof TeamStoreError && (codes.length === 0 || codes.includes(err.code));
}
