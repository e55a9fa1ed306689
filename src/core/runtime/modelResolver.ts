import { errorMessage } from '../base/errors';
import type { ChatModel } from '../interfaces/chatModel';
import { contextWindowFor } from '../llm/knownModels';
import {
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_OPENAI_MODEL,
  MODEL_LIST_TIMEOUT_MS,
  OLLAMA_DEFAULT_CONTEXT_TOKENS,
  OLLAMA_PROBE_TIMEOUT_MS,
} from '../limits';
import { createChatModel } from './chatModelFactory';
import type { HostModel, HostModelSource } from './hostModels';
import { RuntimeUnavailableError } from './runtimeGuard';
import { chatBaseUrl, chatProvider, effectiveBaseUrl, isOpenAIEndpoint, type RuntimeConfig } from './runtimeConfig';
import type { ModelListOptions, ModelPort } from './runtimePort';
import type { RuntimeLog } from './runtimeLog';

/**
 * Which model to talk to and how large its window is: the settings when they say, else what the
 * provider or the server tells. The server's answer is kept until the chat settings change.
 */
export class ModelResolver implements ModelPort {
  private resolved: string | null = null;

  constructor(
    private readonly config: () => RuntimeConfig,
    private readonly log: RuntimeLog,
    /** The editor's own chat models (memgpt.provider "vscode-lm"); absent on the command line. */
    private readonly hostModels?: HostModelSource,
  ) {}

  /** The editor's model memgpt.model names, when memgpt.provider is "vscode-lm"; else null (a server's model). */
  async hostModel(): Promise<HostModel | null> {
    const config = this.config();
    if (chatProvider(config) !== 'vscode-lm') return null;
    if (!this.hostModels) {
      throw new RuntimeUnavailableError(
        'unavailable',
        'MemGPT: Provider is "vscode-lm" (the editor\'s own language models), which only VS Code can supply. Use --provider openai or anthropic here.',
      );
    }
    return this.hostModels.open(config.model.trim());
  }

  /** A client for the configured model (the editor's, or a server's), for requests outside the agent's turns. */
  async chatModel(): Promise<ChatModel> {
    const hosted = await this.hostModel();
    return hosted?.model ?? createChatModel(this.config(), await this.modelName());
  }

  /** The chat settings changed: ask the server again next time. */
  forget(): void {
    this.resolved = null;
  }

  /** The model name to use: the setting, else the provider's default, else the server's first model. */
  async modelName(): Promise<string> {
    const config = this.config();
    if (config.model.trim() !== '') return config.model.trim();
    if (chatProvider(config) === 'anthropic') return DEFAULT_ANTHROPIC_MODEL;
    if (isOpenAIEndpoint(config.baseUrl)) return DEFAULT_OPENAI_MODEL;
    if (this.resolved) return this.resolved;
    const models = await this.listModels({ signal: AbortSignal.timeout(MODEL_LIST_TIMEOUT_MS) }).catch((error: unknown) => {
      throw new RuntimeUnavailableError(
        'no_model',
        `No model is set and the server at ${chatBaseUrl(config)} did not list its models (${errorMessage(error)}). ` +
          'Set MemGPT: Model (or --model), or check that the server is running.',
      );
    });
    const first = models[0];
    if (!first) {
      throw new RuntimeUnavailableError(
        'no_model',
        `The server at ${chatBaseUrl(config)} lists no models. Load or pull a model there (e.g. \`ollama pull llama3.1\`), then try again.`,
      );
    }
    this.resolved = first;
    this.log('info', `No model set; using "${first}", the first model the server lists.`);
    return first;
  }

  /**
   * The window to plan for: the setting, else the known-model table, except on Ollama, which runs
   * models with a smaller context than they were trained for unless told otherwise.
   */
  async contextWindowOf(model: string): Promise<number> {
    const config = this.config();
    if (config.contextWindow > 0) return contextWindowFor(model, config.contextWindow);
    const known = contextWindowFor(model);
    if (isOpenAIEndpoint(config.baseUrl) || chatProvider(config) === 'anthropic' || known <= OLLAMA_DEFAULT_CONTEXT_TOKENS) return known;
    if (!(await isOllama(config.baseUrl))) return known;
    this.log(
      'warn',
      `The server is Ollama, which runs "${model}" with ${OLLAMA_DEFAULT_CONTEXT_TOKENS} tokens of context by default and silently cuts longer prompts, ` +
        `so MemGPT plans for ${OLLAMA_DEFAULT_CONTEXT_TOKENS} (the model was trained for ${known}). For more, start Ollama with OLLAMA_CONTEXT_LENGTH=<n> ` +
        'and set MemGPT: Context Window (or --context-window) to the same n.',
    );
    return OLLAMA_DEFAULT_CONTEXT_TOKENS;
  }

  listModels(options: ModelListOptions = {}): Promise<string[]> {
    const config = this.config();
    if (options.baseUrl === undefined && (options.provider ?? chatProvider(config)) === 'vscode-lm') {
      if (!this.hostModels) {
        return Promise.reject(
          new RuntimeUnavailableError(
            'unavailable',
            'The editor\'s own language models (MemGPT: Provider "vscode-lm") are available only inside VS Code.',
          ),
        );
      }
      return this.hostModels.list(options.signal);
    }
    const baseUrl = options.baseUrl ?? config.baseUrl;
    const apiKey = options.apiKey ?? (options.baseUrl === undefined ? config.apiKey : undefined);
    // The configured provider for the configured server; another URL (a local server being probed) by its own address.
    const configured = options.provider ?? (options.baseUrl === undefined ? config.provider : undefined);
    const provider = chatProvider({ baseUrl, ...(configured ? { provider: configured } : {}) });
    const client = createChatModel(
      {
        provider,
        baseUrl,
        ...(apiKey ? { apiKey } : {}),
        temperature: config.temperature,
        ...(config.requestTimeoutSeconds !== undefined ? { requestTimeoutSeconds: config.requestTimeoutSeconds } : {}),
      },
      'model-list',
      { maxRetries: 0 },
    );
    return client.listModels(options.signal);
  }
}

/** Ollama answers GET <origin>/api/version with {"version": ...}; other servers do not. */
async function isOllama(baseUrl: string): Promise<boolean> {
  try {
    const origin = new URL(effectiveBaseUrl(baseUrl)).origin;
    const response = await fetch(`${origin}/api/version`, { signal: AbortSignal.timeout(OLLAMA_PROBE_TIMEOUT_MS) });
    if (!response.ok) return false;
    const body = (await response.json()) as { version?: unknown };
    return typeof body.version === 'string';
  } catch {
    return false;
  }
}
