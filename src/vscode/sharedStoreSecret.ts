/**
 * The shared index's connection string (it holds a password): kept only in VS Code's
 * SecretStorage, never in settings; when none is stored, MEMGPT_POSTGRES_URL from the
 * environment is used (a developer shell, a dev container), never copied into storage.
 * The setting `memgpt.index.sharedStore` only turns the shared index on and names the repository.
 */
import * as vscode from 'vscode';
import { POSTGRES_URL_ENV } from '../core/team/env';

export const SHARED_STORE_SECRET = 'memgpt.sharedStore.connection';

export class SharedStoreSecret implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;
  /** Fires when the stored connection string changes (here or in another window). */
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.subscription = storage.onDidChange((e) => {
      if (e.key === SHARED_STORE_SECRET) this.emitter.fire();
    });
  }

  async get(): Promise<string | undefined> {
    const stored = (await this.storage.get(SHARED_STORE_SECRET))?.trim();
    if (stored) return stored;
    const fromEnv = this.env[POSTGRES_URL_ENV]?.trim();
    return fromEnv ? fromEnv : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

/** MemGPT: Set Shared Index Connection — asks for the postgres:// URL (masked) and stores it; empty removes it. */
export async function setSharedStoreConnection(
  storage: vscode.SecretStorage,
  args?: { url?: string },
): Promise<'stored' | 'cleared' | 'cancelled'> {
  const url =
    args?.url ??
    (await vscode.window.showInputBox({
      title: 'MemGPT: Shared index connection',
      prompt:
        'postgres://user:password@host:5432/database of the shared index (PostgreSQL + pgvector). Stored in SecretStorage, never in settings. Empty removes it.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' || /^postgres(ql)?:\/\/\S+$/i.test(v.trim()) ? undefined : 'Give a postgres:// URL.'),
    }));
  if (url === undefined) return 'cancelled';
  if (url.trim() === '') {
    await storage.delete(SHARED_STORE_SECRET);
    void vscode.window.showInformationMessage('MemGPT: the shared index connection was removed.');
    return 'cleared';
  }
  await storage.store(SHARED_STORE_SECRET, url.trim());
  const on = vscode.workspace.getConfiguration('memgpt').get<string>('index.sharedStore', '');
  void vscode.window.showInformationMessage(
    on
      ? 'MemGPT: the shared index connection was stored.'
      : 'MemGPT: the shared index connection was stored. Set memgpt.index.sharedStore to "auto" (or the repository id) to use it.',
  );
  return 'stored';
}
