/** `memgpt index <folder>`: build or update the folder's archival index. */
import { connectTeamStore, parseConnection, resolveConnectionString } from '../../core/team/connection';
import { publishIndex, type PublishResult, type PublishSource } from '../../core/team/publisher';
import { gitHead, gitRepoId } from '../../core/team/repoIdentity';
import { isTeamStoreError } from '../../core/team/teamError';
import { CliError, ExitCode, usageError } from '../exitCodes';
import { ProgressLine } from '../progressBar';
import { assertWritable } from '../session';
import { withRuntime, type CommandRunner } from './context';

export const runIndex: CommandRunner = (ctx) =>
  withRuntime(forPublishing(ctx), async (runtime, folder) => {
    assertWritable(runtime, 'index the folder');
    const json = ctx.options.json === true;
    // The bar goes to stderr, and only when both streams are a terminal: piped output stays clean.
    const bar = !json && ctx.out.stdoutIsTTY && ctx.out.stderrIsTTY ? new ProgressLine((t) => ctx.out.stderrRaw(t), ctx.columns) : null;
    const subscription = bar ? runtime.index.onIndexProgress((p) => bar.update(p)) : null;
    let summary;
    try {
      summary = await runtime.index.indexWorkspace({ rebuild: ctx.options.rebuild === true, signal: ctx.interrupts.signal });
    } finally {
      subscription?.dispose();
      bar?.clear();
    }
    const counts = runtime.memory.archivalCounts();
    const publishing =
      !summary.cancelled && !ctx.interrupts.interrupted && (ctx.options.store !== undefined || ctx.options.publish === true);
    if (json) {
      const report = {
        folder,
        ...summary,
        seconds: Math.round(summary.ms) / 1000,
        archival: { total: counts.workspace + counts.memory, ...counts },
      };
      // One JSON document: the publish result joins the index summary.
      ctx.out.json(
        publishing ? { ...report, published: await publish(ctx, folder, ctx.options.store, () => runtime.index.publishSource()) } : report,
      );
      return summary.cancelled || ctx.interrupts.interrupted ? ExitCode.interrupted : ExitCode.ok;
    } else {
      const files = `${summary.indexed} file${summary.indexed === 1 ? '' : 's'} indexed (${summary.unchanged} unchanged, ${summary.removed} removed, ${summary.skipped} skipped${summary.shared > 0 ? `, ${summary.shared} left to the shared index` : ''})`;
      const verb = summary.cancelled ? 'Cancelled after' : 'Indexed';
      ctx.out.content(
        `${verb} ${folder}: ${files}, ${summary.chunks} chunk${summary.chunks === 1 ? '' : 's'} in ${(summary.ms / 1000).toFixed(1)} s. ` +
          `Archival memory: ${counts.workspace} workspace chunks, ${counts.memory} remembered items.\n`,
      );
      if (summary.cancelled) ctx.out.message('What was indexed so far is saved; run `memgpt index` again to finish.');
    }
    if (summary.cancelled || ctx.interrupts.interrupted) return ExitCode.interrupted;
    if (!publishing) return ExitCode.ok;
    const published = await publish(ctx, folder, ctx.options.store, () => runtime.index.publishSource());
    ctx.out.content(
      `Published ${published.chunks} chunks of ${published.files} files as ${published.repoId} at ${published.commit.slice(0, 12)} to ${published.server} in ${(published.ms / 1000).toFixed(1)} s` +
        `${published.replaced !== null ? ' (replacing the earlier publish of that commit)' : ''}.\n`,
    );
    return ExitCode.ok;
  });

/**
 * A publish must hold every file of the commit, so the index it is made from never leaves files
 * to an earlier publish (as a laptop reading the shared index does): the shared store is not read.
 */
function forPublishing(ctx: Parameters<CommandRunner>[0]): Parameters<CommandRunner>[0] {
  if (ctx.options.store === undefined && ctx.options.publish !== true) return ctx;
  const { sharedStore: _reader, ...config } = ctx.config;
  return { ...ctx, config };
}

/**
 * Publishes the local index of the checked-out commit (CI). The connection string comes from
 * --store or MEMGPT_POSTGRES_URL and is never printed: messages name host, port and database.
 */
async function publish(
  ctx: Parameters<CommandRunner>[0],
  folder: string,
  store: string | undefined,
  source: () => PublishSource,
): Promise<PublishResult & { repoId: string; commit: string; server: string }> {
  const url = resolveConnectionString({ flag: store, env: process.env });
  if (!url)
    throw usageError('--publish needs a shared store: set MEMGPT_POSTGRES_URL (from the CI secret store) or pass --store postgres://…');
  try {
    const connection = parseConnection(url);
    const repoId = ctx.options['repo-id']?.trim() || (await gitRepoId(folder));
    const commit = ctx.options.commit?.trim() || (await gitHead(folder));
    const client = await connectTeamStore(connection);
    try {
      const result = await publishIndex(client, connection, { repoId, commit, source: source(), signal: ctx.interrupts.signal });
      return { ...result, repoId, commit, server: connection.display };
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (err) {
    if (!isTeamStoreError(err)) throw err;
    const code =
      err.code === 'bad_url' || err.code === 'no_git'
        ? ExitCode.usage
        : err.code === 'unreachable'
          ? ExitCode.serverUnreachable
          : ExitCode.runtimeFailure;
    throw new CliError(`Publishing failed (${err.code}): ${err.message}`, code);
  }
}
