import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { errorCode } from '../../../src/core/base/errors';
import { Model2VecEmbedder } from '../../../src/core/embed/model2vec';
import {
  downloadModel,
  installedModelDir,
  isModelInstalled,
  resolveLocalModelPath,
  type ModelManifest,
} from '../../../src/core/embed/modelDownload';
import { writeTinyModel2Vec } from '../../fixtures/tinyModel2Vec';
import { downloadModelCommand } from '../../../src/cli/commands/downloadModel';
import { commandSpec } from '../../../src/cli/commandTable';
import type { CommandContext } from '../../../src/cli/commands/context';
import { runtimeConfigFrom } from '../../../src/cli/config';
import { Interrupts } from '../../../src/cli/interrupts';
import { Output } from '../../../src/cli/output';
import { Readable } from 'node:stream';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'memgpt-dl-'));
const FILES = ['config.json', 'tokenizer.json', 'model.safetensors'];

interface ServedModel {
  url: string;
  manifest: ModelManifest;
  requests: string[];
  close(): Promise<void>;
}

/**
 * A Hugging Face-shaped server on 127.0.0.1: `/<repo>/resolve/<revision>/<file>` answers with a
 * redirect to `/cdn/<file>` (as the real one does), which serves the tiny model's bytes.
 * `slowFile` is sent in small pieces with pauses, so a cancel can land in the middle of it.
 */
async function serveTinyModel(options: { slowFile?: string; corrupt?: string } = {}): Promise<ServedModel> {
  const source = writeTinyModel2Vec(path.join(tmp(), 'src'));
  const bytes = new Map(FILES.map((f) => [f, readFileSync(path.join(source, f))]));
  const manifest: ModelManifest = {
    name: 'tiny',
    repo: 'test/tiny-model',
    revision: '0123456789abcdef0123456789abcdef01234567',
    files: FILES.map((name) => ({
      name,
      bytes: bytes.get(name)!.length,
      sha256: createHash('sha256').update(bytes.get(name)!).digest('hex'),
    })),
  };
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const resolved = /^\/test\/tiny-model\/resolve\/0123456789abcdef0123456789abcdef01234567\/(.+)$/.exec(req.url ?? '');
    if (resolved) {
      res.writeHead(302, { location: `/cdn/${resolved[1]}` }).end();
      return;
    }
    const name = /^\/cdn\/(.+)$/.exec(req.url ?? '')?.[1] ?? '';
    let body = bytes.get(name);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    if (options.corrupt === name) {
      body = Buffer.from(body);
      body[body.length - 1] ^= 0xff;
    }
    res.writeHead(200, { 'content-length': body.length });
    if (options.slowFile !== name) {
      res.end(body);
      return;
    }
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(body.subarray(at, at + 16));
      at += 16;
      if (at >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    manifest,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

test('download: pinned files fetched over real HTTP (redirect followed), checked, installed, then loaded', async () => {
  const served = await serveTinyModel();
  const root = tmp();
  try {
    const progress: number[] = [];
    assert.equal(isModelInstalled(installedModelDir(root, served.manifest), served.manifest), false);
    const dir = await downloadModel({
      storageRoot: root,
      manifest: served.manifest,
      baseUrl: served.url,
      onProgress: (p) => progress.push(p.receivedBytes),
    });
    assert.equal(dir, installedModelDir(root, served.manifest));
    assert.equal(isModelInstalled(dir, served.manifest), true);
    const total = served.manifest.files.reduce((n, f) => n + f.bytes, 0);
    assert.equal(progress.at(-1), total);
    assert.ok(
      progress.every((p, i) => i === 0 || p >= progress[i - 1]!),
      'progress only grows',
    );
    assert.ok(
      served.requests.some((r) => r.startsWith('/cdn/')),
      'the redirect was followed',
    );
    assert.deepEqual(readdirSync(path.dirname(dir)), [path.basename(dir)], 'no temporary folder is left');
    const e = await Model2VecEmbedder.load(dir);
    assert.equal(e.dimensions, 4);
  } finally {
    await served.close();
  }
});

test('download: a file with the wrong hash fails with a code and leaves no file behind', async () => {
  const served = await serveTinyModel({ corrupt: 'model.safetensors' });
  const root = tmp();
  try {
    await assert.rejects(downloadModel({ storageRoot: root, manifest: served.manifest, baseUrl: served.url }), (e: unknown) => {
      assert.equal(errorCode(e), 'download_mismatch');
      assert.match((e as Error).message, /model\.safetensors does not match its pinned SHA-256/);
      return true;
    });
    assert.deepEqual(readdirSync(path.join(root, 'models')), [], 'nothing kept');
    assert.equal(resolveLocalModelPath('', root), '', 'no model: the lexical fallback');
  } finally {
    await served.close();
  }
});

test('download: a cancel in the middle of a file leaves nothing; a 404 is a clear error', async () => {
  const served = await serveTinyModel({ slowFile: 'model.safetensors' });
  const root = tmp();
  try {
    const ctl = new AbortController();
    const run = downloadModel({
      storageRoot: root,
      manifest: served.manifest,
      baseUrl: served.url,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.file === 'model.safetensors' && p.receivedBytes > 0) ctl.abort();
      },
    });
    await assert.rejects(run, (e: unknown) => errorCode(e) === 'download_cancelled');
    assert.deepEqual(readdirSync(path.join(root, 'models')), []);

    const missing: ModelManifest = { ...served.manifest, revision: 'ffffffffffffffffffffffffffffffffffffffff' };
    await assert.rejects(
      downloadModel({ storageRoot: root, manifest: missing, baseUrl: served.url }),
      (e: unknown) => errorCode(e) === 'download_failed' && /answered 404/.test((e as Error).message),
    );
    assert.deepEqual(readdirSync(path.join(root, 'models')), []);
  } finally {
    await served.close();
  }
});

test('resolveLocalModelPath: the named folder wins, else the installed download, else none', async () => {
  const served = await serveTinyModel();
  const root = tmp();
  try {
    assert.equal(resolveLocalModelPath('', root, served.manifest), '');
    const dir = await downloadModel({ storageRoot: root, manifest: served.manifest, baseUrl: served.url });
    assert.equal(resolveLocalModelPath('', root, served.manifest), dir);
    assert.equal(resolveLocalModelPath(' /some/folder ', root, served.manifest), '/some/folder');
  } finally {
    await served.close();
  }
});

test('memgpt download-model: refuses without consent off a terminal, downloads with --yes, then every command finds the model', async () => {
  const served = await serveTinyModel();
  const state = tmp();
  try {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const ctx = (options: Record<string, unknown>): CommandContext => ({
      command: commandSpec('download-model')!,
      args: {},
      options: options as CommandContext['options'],
      config: runtimeConfigFrom({}, { MEMGPT_STATE_DIR: state }),
      stateDir: state,
      out: new Output({ write: (t: string) => stdout.push(t) }, { write: (t: string) => stderr.push(t) }, undefined),
      interrupts: new Interrupts(() => undefined),
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      columns: () => 80,
    });
    await assert.rejects(downloadModelCommand(ctx({}), { manifest: served.manifest, baseUrl: served.url }), /needs your consent.*--yes/);
    assert.equal(served.requests.length, 0, 'nothing is fetched without consent');
    const code = await downloadModelCommand(ctx({ yes: true, json: true }), { manifest: served.manifest, baseUrl: served.url });
    assert.equal(code, 0);
    const report = JSON.parse(stdout.join('')) as { folder: string; downloaded: boolean };
    assert.equal(report.downloaded, true);
    assert.equal(report.folder, installedModelDir(state, served.manifest));
    assert.equal(resolveLocalModelPath('', state, served.manifest), report.folder);
    stdout.length = 0;
    await downloadModelCommand(ctx({ yes: true, json: true }), { manifest: served.manifest, baseUrl: served.url });
    assert.equal((JSON.parse(stdout.join('')) as { downloaded: boolean }).downloaded, false, 'a second run finds it');
  } finally {
    await served.close();
  }
});
