/**
 * Builds the chat model a configuration asks for: Anthropic's Messages API or an
 * OpenAI-compatible server. One place, so the agent, "Select model" and the key check agree on
 * which API and which URL a configuration means.
 */
import { ChatModelError, type ChatModel } from '../interfaces/chatModel';
import { AnthropicChatModel } from '../llm/anthropicChatModel';
import { OpenAIChatModel } from '../llm/openaiChatModel';
import { chatBaseUrl, chatProvider, requestTimeoutMs, type RuntimeConfig } from './runtimeConfig';

export type ChatModelConfig = Pick<RuntimeConfig, 'provider' | 'baseUrl' | 'apiKey' | 'temperature' | 'requestTimeoutSeconds'>;

export function createChatModel(config: ChatModelConfig, model: string, options: { maxRetries?: number } = {}): ChatModel {
  if (chatProvider(config) === 'vscode-lm') {
    // The editor's models come from its host (WorkspaceRuntimeOptions.hostModels), never from a URL.
    throw new ChatModelError(
      'not_found',
      'MemGPT: Provider "vscode-lm" uses the editor\'s own language models, which only VS Code can supply; there is no server to call.',
    );
  }
  const common = {
    baseUrl: chatBaseUrl(config),
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
    model,
    temperature: config.temperature,
    requestTimeoutMs: requestTimeoutMs(config),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
  };
  return chatProvider(config) === 'anthropic' ? new AnthropicChatModel(common) : new OpenAIChatModel(common);
}
