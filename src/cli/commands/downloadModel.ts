/**
 * `memgpt download-model`: the local embedding model, downloaded once into the state folder, where
 * every command then finds it (semantic archival search without a server). Asks first on a
 * terminal; without one, only --yes downloads. The pinned hashes decide what is kept.
 */
import { createInterface } from 'node:readline/promises';
import {
  DEFAULT_LOCAL_MODEL,
  downloadModel,
  formatMegabytes,
  installedModelDir,
  isModelInstalled,
  modelBytes,
  type ModelManifest,
} from '../../core/embed/modelDownload';
import { ExitCode, usageError } from '../exitCodes';
import type { CommandContext, CommandRunner } from './context';

export interface DownloadSource {
  manifest: ModelManifest;
  /** A Hugging Face mirror (MEMGPT_MODEL_BASE_URL); undefined: huggingface.co. */
  baseUrl?: string;
}

async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: process.stderr, terminal: true });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function downloadModelCommand(ctx: CommandContext, source: DownloadSource): Promise<ExitCode> {
  const { manifest } = source;
  const dir = installedModelDir(ctx.stateDir, manifest);
  const report = (downloaded: boolean): void => {
    if (ctx.options.json === true) ctx.out.json({ model: manifest.repo, revision: manifest.revision, folder: dir, downloaded });
    else ctx.out.content(`${dir}\n`);
  };
  if (isModelInstalled(dir, manifest)) {
    ctx.out.message(`The local embedding model ${manifest.name} is already downloaded; every command with this state folder uses it.`);
    report(false);
    return ExitCode.ok;
  }
  const size = formatMegabytes(modelBytes(manifest));
  if (ctx.options.yes !== true) {
    if (ctx.stdin.isTTY !== true)
      throw usageError(`Downloading the local embedding model (${size}) needs your consent: run it on a terminal, or pass --yes.`);
    const ok = await confirm(
      ctx,
      `Download the local embedding model (${size}): ${manifest.repo} (MIT) from ${source.baseUrl ?? 'huggingface.co'}, SHA-256 checked, into ${dir}? [y/N] `,
    );
    if (!ok) {
      ctx.out.message('Nothing was downloaded.');
      return ExitCode.ok;
    }
  }
  let lastPercent = -1;
  await downloadModel({
    storageRoot: ctx.stateDir,
    manifest,
    signal: ctx.interrupts.signal,
    ...(source.baseUrl ? { baseUrl: source.baseUrl } : {}),
    onProgress: (p) => {
      const percent = Math.floor((100 * p.receivedBytes) / p.totalBytes);
      if (!ctx.out.stderrIsTTY || percent === lastPercent) return;
      lastPercent = percent;
      ctx.out.stderrRaw(`\r${formatMegabytes(p.receivedBytes)} of ${formatMegabytes(p.totalBytes)} (${percent}%)`);
    },
  });
  if (ctx.out.stderrIsTTY) ctx.out.stderrRaw('\n');
  ctx.out.message(
    `The local embedding model ${manifest.name} is ready: archival search is semantic from now on. Run \`memgpt index <folder>\` to index a folder with it.`,
  );
  report(true);
  return ExitCode.ok;
}

export const runDownloadModel: CommandRunner = (ctx) => {
  const baseUrl = process.env.MEMGPT_MODEL_BASE_URL?.trim();
  return downloadModelCommand(ctx, { manifest: DEFAULT_LOCAL_MODEL, ...(baseUrl ? { baseUrl } : {}) });
};
