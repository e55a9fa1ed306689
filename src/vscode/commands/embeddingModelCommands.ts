/**
 * MemGPT: Download Local Embedding Model. Asks first (a modal that shows the size and where the
 * files come from), downloads with a cancellable progress notification, then applies the
 * settings again so the runtime switches to the model (and re-indexes with it).
 */
import * as vscode from 'vscode';
import { errorCode } from '../../core/base/errors';
import {
  DEFAULT_LOCAL_MODEL,
  downloadModel,
  formatMegabytes,
  installedModelDir,
  isModelInstalled,
  modelBytes,
  type ModelManifest,
} from '../../core/embed/modelDownload';

export interface DownloadModelDeps {
  /** The extension's global storage: the model is kept under it. */
  storageRoot: string;
  /** The folder named in memgpt.embeddings.localModelPath ('' when none). */
  namedFolder(): string;
  /** Applies the settings again (the runtime then loads the new model). */
  reconfigure(): Promise<void>;
  log: vscode.LogOutputChannel;
  reportError(what: string, error: unknown): Promise<void>;
  manifest?: ModelManifest;
  /** A Hugging Face mirror (MEMGPT_MODEL_BASE_URL); the pinned hashes still decide what is kept. */
  baseUrl?: string;
}

/** `confirmed: true` is for callers that asked the user themselves (tests); nothing else skips the question. */
export async function downloadEmbeddingModel(deps: DownloadModelDeps, args?: { confirmed?: boolean }): Promise<string | undefined> {
  const manifest = deps.manifest ?? DEFAULT_LOCAL_MODEL;
  const dir = installedModelDir(deps.storageRoot, manifest);
  const named = deps.namedFolder();
  if (isModelInstalled(dir, manifest)) {
    void vscode.window.showInformationMessage(
      named
        ? `MemGPT: the local embedding model is already downloaded, but memgpt.embeddings.localModelPath names another folder (${named}), which is used instead.`
        : `MemGPT: the local embedding model ${manifest.name} is already downloaded and in use.`,
    );
    return dir;
  }
  const size = formatMegabytes(modelBytes(manifest));
  if (args?.confirmed !== true) {
    const answer = await vscode.window.showInformationMessage(
      `Download the local embedding model (${size})?`,
      {
        modal: true,
        detail: `${manifest.repo} (MIT) from ${deps.baseUrl ?? 'huggingface.co'}, checked against pinned SHA-256 hashes and kept in MemGPT's storage. Archival search then matches by meaning, in process: no text leaves your machine. Without it, search is lexical only.`,
      },
      'Download',
    );
    if (answer !== 'Download') return undefined;
  }
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MemGPT: downloading ${manifest.name}`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        await downloadModel({
          storageRoot: deps.storageRoot,
          manifest,
          signal: controller.signal,
          ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}),
          onProgress: (p) => {
            const percent = (100 * p.receivedBytes) / p.totalBytes;
            if (percent - reported < 1 && p.receivedBytes < p.totalBytes) return;
            progress.report({
              increment: percent - reported,
              message: `${formatMegabytes(p.receivedBytes)} of ${formatMegabytes(p.totalBytes)}`,
            });
            reported = percent;
          },
        });
      },
    );
  } catch (error) {
    if (errorCode(error) === 'download_cancelled') {
      void vscode.window.showInformationMessage('MemGPT: the model download was cancelled; nothing was kept.');
      return undefined;
    }
    await deps.reportError('Downloading the local embedding model failed', error);
    return undefined;
  }
  deps.log.info(`The local embedding model ${manifest.name} was downloaded to ${dir}.`);
  if (named) {
    void vscode.window.showInformationMessage(
      `MemGPT: the model was downloaded, but memgpt.embeddings.localModelPath names another folder (${named}), which stays in use. Clear that setting to use the download.`,
    );
  } else {
    void vscode.window.showInformationMessage(
      `MemGPT: the local embedding model ${manifest.name} is ready. Archival search now matches by meaning; the workspace is re-indexed with it.`,
    );
  }
  await deps.reconfigure();
  return dir;
}
