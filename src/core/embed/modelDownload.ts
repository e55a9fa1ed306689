/**
 * The one-time download of the local embedding model, done only when the user asked for it.
 * Each file comes from a URL pinned to one revision, its size and SHA-256 are fixed here, and it
 * is checked before anything is kept: the files go to a temporary folder beside the target and
 * the folder takes its final name only when every file matched. A wrong hash, a failed request
 * or a cancel removes the temporary folder, so no half model is ever found by the loader.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, promises as fsp, type WriteStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { MemgptError } from '../base/errors';
import { MODEL_DOWNLOAD_MAX_REDIRECTS, MODEL_DOWNLOAD_STALL_MS } from '../limits';

export type ModelDownloadErrorCode =
  /** The server could not be reached, answered with an error, or stalled. */
  | 'download_failed'
  /** A file arrived with other bytes than the pinned ones (size or SHA-256). */
  | 'download_mismatch'
  /** The user cancelled. */
  | 'download_cancelled';

export class ModelDownloadError extends MemgptError<ModelDownloadErrorCode> {}

export interface ModelFilePin {
  name: string;
  sha256: string;
  bytes: number;
}

export interface ModelManifest {
  /** Folder name of the installed model. */
  name: string;
  /** Hugging Face repository, e.g. `minishlab/potion-base-8M`. */
  repo: string;
  /** Commit of that repository: a branch would move under the pin. */
  revision: string;
  files: readonly ModelFilePin[];
}

/**
 * minishlab/potion-base-8M (MIT): a 256-dimension Model2Vec model distilled from BAAI/bge-base-en-v1.5,
 * a WordPiece vocabulary of 29,528 tokens, float32 matrix. Sizes and hashes of that revision.
 */
export const DEFAULT_LOCAL_MODEL: ModelManifest = {
  name: 'potion-base-8M',
  repo: 'minishlab/potion-base-8M',
  revision: 'bf8b056651a2c21b8d2565580b8569da283cab23',
  files: [
    { name: 'config.json', sha256: '2a6ac0e9aaa356a68a5688070db78fc3a464fefe85d2f06a1905ce3718687553', bytes: 202 },
    { name: 'tokenizer.json', sha256: 'e67e803f624fb4d67dea1c730d06e1067e1b14d830e2c2202569e3ef0f70bb50', bytes: 683_666 },
    { name: 'model.safetensors', sha256: 'f65d0f325faadc1e121c319e2faa41170d3fa07d8c89abd48ca5358d9a223de2', bytes: 30_236_760 },
  ],
};

export const HUGGING_FACE_BASE_URL = 'https://huggingface.co';

/** A file of the marker that says a folder holds every pinned file, checked (written last). */
const COMPLETE_MARKER = '.memgpt-model-complete.json';

export function modelBytes(manifest: ModelManifest): number {
  return manifest.files.reduce((n, f) => n + f.bytes, 0);
}

/** "30.9 MB": sizes as a consent prompt shows them. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Where a downloaded model lives under the extension's global storage or the CLI's state folder. */
export function installedModelDir(storageRoot: string, manifest: ModelManifest = DEFAULT_LOCAL_MODEL): string {
  return path.join(storageRoot, 'models', `${manifest.name}-${manifest.revision.slice(0, 8)}`);
}

/** True when the folder holds a complete, checked download of this manifest. */
export function isModelInstalled(dir: string, manifest: ModelManifest = DEFAULT_LOCAL_MODEL): boolean {
  return existsSync(path.join(dir, COMPLETE_MARKER)) && manifest.files.every((f) => existsSync(path.join(dir, f.name)));
}

/**
 * The model folder to use: the one the user named, else the downloaded default when it is
 * installed, else '' (no model: the lexical fallback).
 */
export function resolveLocalModelPath(named: string, storageRoot: string, manifest: ModelManifest = DEFAULT_LOCAL_MODEL): string {
  if (named.trim() !== '') return named.trim();
  const dir = installedModelDir(storageRoot, manifest);
  return isModelInstalled(dir, manifest) ? dir : '';
}

export interface DownloadProgress {
  file: string;
  /** Bytes received of all files so far. */
  receivedBytes: number;
  totalBytes: number;
}

export interface DownloadOptions {
  storageRoot: string;
  manifest?: ModelManifest;
  /** Tests point this at a server on 127.0.0.1; users get Hugging Face. */
  baseUrl?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

/** Downloads, checks and installs the model; returns its folder. Nothing is left behind on failure. */
export async function downloadModel(options: DownloadOptions): Promise<string> {
  const manifest = options.manifest ?? DEFAULT_LOCAL_MODEL;
  const base = (options.baseUrl ?? HUGGING_FACE_BASE_URL).replace(/\/+$/, '');
  const target = installedModelDir(options.storageRoot, manifest);
  const temp = `${target}.download-${randomUUID().slice(0, 8)}`;
  const total = modelBytes(manifest);
  let received = 0;
  await fsp.mkdir(temp, { recursive: true });
  try {
    for (const file of manifest.files) {
      options.signal?.throwIfAborted();
      const url = `${base}/${manifest.repo}/resolve/${manifest.revision}/${file.name}`;
      const before = received;
      await fetchFile(url, path.join(temp, file.name), file, options.signal, (n) => {
        received = before + n;
        options.onProgress?.({ file: file.name, receivedBytes: received, totalBytes: total });
      });
    }
    await fsp.writeFile(
      path.join(temp, COMPLETE_MARKER),
      JSON.stringify({ repo: manifest.repo, revision: manifest.revision, files: manifest.files }, null, 2),
    );
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.rename(temp, target);
    return target;
  } catch (error) {
    await fsp.rm(temp, { recursive: true, force: true });
    if (options.signal?.aborted)
      throw new ModelDownloadError('download_cancelled', 'The model download was cancelled; nothing was kept.', { cause: error });
    throw error;
  }
}

function fetchFile(
  url: string,
  dest: string,
  pin: ModelFilePin,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  redirects = 0,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let out: WriteStream | null = null;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      request.destroy();
      // The file is closed before the caller removes its folder (Windows refuses to delete open files).
      if (out && !out.closed) {
        out.once('close', () => reject(error));
        out.destroy();
      } else {
        reject(error);
      }
    };
    const parsed = new URL(url);
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!client) {
      reject(new ModelDownloadError('download_failed', `The model URL ${url} is neither http nor https.`));
      return;
    }
    const onAbort = (): void => fail(new ModelDownloadError('download_cancelled', 'The model download was cancelled; nothing was kept.'));
    const request = client.get(parsed, { headers: { 'user-agent': 'memgpt-vscode' } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (redirects >= MODEL_DOWNLOAD_MAX_REDIRECTS) {
          fail(
            new ModelDownloadError(
              'download_failed',
              `The download of ${pin.name} was redirected more than ${MODEL_DOWNLOAD_MAX_REDIRECTS} times.`,
            ),
          );
          return;
        }
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fetchFile(new URL(response.headers.location, url).href, dest, pin, signal, onBytes, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        response.resume();
        fail(
          new ModelDownloadError(
            'download_failed',
            `The server answered ${status} for ${url}. Check the network (or the proxy), then try again.`,
          ),
        );
        return;
      }
      const hash = createHash('sha256');
      const file = createWriteStream(dest);
      out = file;
      let count = 0;
      response.on('data', (chunk: Buffer) => {
        count += chunk.length;
        if (count > pin.bytes) {
          fail(
            new ModelDownloadError(
              'download_mismatch',
              `${pin.name} is larger than the pinned ${pin.bytes} bytes: the server sent another file. Nothing was kept.`,
            ),
          );
          return;
        }
        hash.update(chunk);
        onBytes(count);
      });
      response.pipe(file);
      response.on('error', (e) =>
        fail(new ModelDownloadError('download_failed', `The download of ${pin.name} broke off: ${e.message}`, { cause: e })),
      );
      // A connection closed before the last byte ends the response without an error.
      response.on('aborted', () =>
        fail(
          new ModelDownloadError('download_failed', `The download of ${pin.name} broke off before its end. Nothing was kept; try again.`),
        ),
      );
      file.on('error', (e) => fail(new ModelDownloadError('download_failed', `${dest} could not be written: ${e.message}`, { cause: e })));
      file.on('close', () => {
        if (settled) return;
        if (count !== pin.bytes) {
          fail(
            new ModelDownloadError(
              'download_mismatch',
              `${pin.name} arrived with ${count} bytes, not the pinned ${pin.bytes}. Nothing was kept; try again.`,
            ),
          );
          return;
        }
        const digest = hash.digest('hex');
        if (digest !== pin.sha256) {
          fail(
            new ModelDownloadError(
              'download_mismatch',
              `${pin.name} does not match its pinned SHA-256 (got ${digest}, expected ${pin.sha256}). Nothing was kept.`,
            ),
          );
          return;
        }
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    // A stalled connection is abandoned; a slow one that keeps sending is not.
    request.setTimeout(MODEL_DOWNLOAD_STALL_MS, () =>
      fail(
        new ModelDownloadError('download_failed', `The download of ${pin.name} stalled: no data for ${MODEL_DOWNLOAD_STALL_MS / 1000} s.`),
      ),
    );
    request.on('error', (e) =>
      fail(
        new ModelDownloadError(
          'download_failed',
          `The model could not be downloaded from ${parsed.origin}: ${e.message}. Check the network (or the proxy), then try again.`,
          { cause: e },
        ),
      ),
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
