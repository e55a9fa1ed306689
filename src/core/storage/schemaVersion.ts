import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { atomicWriteJson, readJsonFile, UnsupportedFileError } from './atomicFile';
import { MemgptError } from '../base/errors';

/**
 * Each storage folder records the version of its layout in `schema.json`.
 * Opening a folder runs the migrations it has not seen yet, in order; a folder
 * written by a NEWER version is refused, never reset, so downgrading the
 * extension cannot destroy memory.
 */

export const SCHEMA_FILE = 'schema.json';

export interface Migration {
  /** The version this migration produces; migrations run in ascending order from the folder's version + 1. */
  version: number;
  description: string;
  /**
   * Transforms the folder. Must be safe to run again after a crash part-way
   * (the version is recorded only after it returns).
   */
  up(dir: string): Promise<void>;
}

export interface SchemaFile {
  version: number;
  updatedAt: string;
  history: { version: number; description: string; at: string }[];
}

export class SchemaTooNewError extends UnsupportedFileError {
  constructor(
    readonly dir: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `The memory in ${dir} was written by a newer version of MemGPT (storage schema ${found}; this version ` +
        `understands up to ${supported}). Update the extension to use it. Nothing was changed or deleted.`,
    );
    this.name = 'SchemaTooNewError';
  }
}

export class MigrationError extends MemgptError {
  constructor(
    readonly dir: string,
    readonly migration: Migration,
    override readonly cause: unknown,
  ) {
    super(
      'migration_failed',
      `Upgrading the memory in ${dir} to schema ${migration.version} (${migration.description}) failed: ` +
        `${(cause as Error)?.message ?? String(cause)}. The folder stays at schema ${migration.version - 1}; ` +
        `the upgrade will be retried next time. Report this if it keeps failing.`,
    );
  }
}

function validateSchemaFile(v: unknown): SchemaFile {
  const o = v as Partial<SchemaFile> | null;
  if (!o || typeof o !== 'object' || !Number.isInteger(o.version) || (o.version as number) < 0) {
    throw new Error('"version" must be a non-negative integer');
  }
  return {
    version: o.version as number,
    updatedAt: typeof o.updatedAt === 'string' ? o.updatedAt : '',
    history: Array.isArray(o.history) ? o.history : [],
  };
}

/** The folder's schema version; 0 when it has never been versioned. */
export async function readSchemaVersion(dir: string): Promise<number> {
  return (await readJsonFile(path.join(dir, SCHEMA_FILE), validateSchemaFile))?.version ?? 0;
}

/**
 * Brings `dir` up to the newest version in `migrations`. Returns the versions
 * it ran. Throws SchemaTooNewError (folder untouched) or MigrationError.
 */
export async function migrate(dir: string, migrations: readonly Migration[]): Promise<{ from: number; to: number; ran: number[] }> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`Migrations must be numbered 1, 2, 3… without gaps; found version ${m.version} at position ${i + 1}.`);
    }
  });
  const latest = ordered.length;
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, SCHEMA_FILE);
  const current = (await readJsonFile(file, validateSchemaFile)) ?? { version: 0, updatedAt: '', history: [] };
  if (current.version > latest) throw new SchemaTooNewError(dir, current.version, latest);
  const from = current.version;
  const ran: number[] = [];
  for (const m of ordered) {
    if (m.version <= current.version) continue;
    try {
      await m.up(dir);
    } catch (err) {
      throw new MigrationError(dir, m, err);
    }
    const at = new Date().toISOString();
    current.version = m.version;
    current.updatedAt = at;
    current.history.push({ version: m.version, description: m.description, at });
    await atomicWriteJson(file, current);
    ran.push(m.version);
  }
  return { from, to: current.version, ran };
}
