/**
 * The API key: kept only in VS Code's SecretStorage (the OS keychain on desktop), never in
 * settings, agent state, logs or exports. When none is stored, the provider's environment
 * variable is used (OPENAI_API_KEY, what `npm start` and most OpenAI tooling pass, or
 * ANTHROPIC_API_KEY for Anthropic), but never copied into storage.
 */
import * as vscode from 'vscode';
import type { ChatProvider } from '../core/runtime/runtimeConfig';
import { redactSecrets } from '../core/security/redact';

export const API_KEY_SECRET = 'memgpt.apiKey';

export type ApiKeySource = 'secret-storage' | 'environment' | 'none';

export class ApiKeyStore implements vscode.Disposable {
  private cached: string | undefined;
  private loaded = false;
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly subscription: vscode.Disposable;
  /** Fires when the stored key changes (here or in another window): the model client must be rebuilt. */
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.subscription = storage.onDidChange((e) => {
      if (e.key !== API_KEY_SECRET) return;
      this.loaded = false;
      this.emitter.fire();
    });
  }

  private async stored(): Promise<string | undefined> {
    if (!this.loaded) {
      const value = await this.storage.get(API_KEY_SECRET);
      this.cached = value && value.trim() ? value : undefined;
      this.loaded = true;
    }
    return this.cached;
  }

  /** Only the provider's own variable: an OpenAI key must never be sent to Anthropic, nor the reverse. */
  private envKey(provider: ChatProvider = 'openai'): string | undefined {
    const v = (provider === 'anthropic' ? this.env.ANTHROPIC_API_KEY : this.env.OPENAI_API_KEY)?.trim();
    return v ? v : undefined;
  }

  /** The key to send, or undefined (local servers need none). */
  async get(provider?: ChatProvider): Promise<string | undefined> {
    return (await this.stored()) ?? this.envKey(provider);
  }

  async source(provider?: ChatProvider): Promise<ApiKeySource> {
    if (await this.stored()) return 'secret-storage';
    return this.envKey(provider) ? 'environment' : 'none';
  }

  /** Stores `key` (trimmed). An empty key is refused: use `clear` to remove one. */
  async store(key: string): Promise<void> {
    const trimmed = key.trim();
    if (!trimmed)
      throw new Error(
        'The API key is empty. Paste the key from your provider, or run "MemGPT: Set API Key" and leave it empty to remove the stored key.',
      );
    if (/\s/.test(trimmed)) throw new Error('The API key contains spaces or line breaks; keys never do. Copy it again from your provider.');
    await this.storage.store(API_KEY_SECRET, trimmed);
    this.cached = trimmed;
    this.loaded = true;
    this.emitter.fire();
  }

  async clear(): Promise<void> {
    await this.storage.delete(API_KEY_SECRET);
    this.cached = undefined;
    this.loaded = true;
    this.emitter.fire();
  }

  /** Every key value this window knows, for `redactSecrets`. */
  async knownSecrets(): Promise<string[]> {
    return [await this.stored(), this.envKey('openai'), this.envKey('anthropic')].filter((k): k is string => k !== undefined);
  }

  /** `text` with every known key (and key-shaped token) removed: use on anything shown or logged. */
  async redact(text: string): Promise<string> {
    return redactSecrets(text, await this.knownSecrets());
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
