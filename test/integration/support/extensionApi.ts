import * as vscode from 'vscode';
import { HARNESS_UI_WAIT_MS } from '../../../src/core/limits';
import type { MemGptApi } from '../../../src/extension';

export const EXTENSION_ID = 'memgpt-vscode.memgpt-vscode';

/** The extension under test, activated; its `activate()` result is the API. */
export async function activatedExtension(): Promise<vscode.Extension<MemGptApi>> {
  const ext = vscode.extensions.getExtension<MemGptApi>(EXTENSION_ID);
  if (!ext) throw new Error(`Extension ${EXTENSION_ID} is not loaded in this extension host (is extensionDevelopmentPath the repo?).`);
  await ext.activate();
  return ext;
}

/** Polls `check` until it is truthy or `timeoutMs` passes; the error names what was awaited. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = HARNESS_UI_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
