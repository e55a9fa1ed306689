/**
 * Whether the login event may run a turn the moment a window opens, or must wait for the agent's
 * next step (deliverLogin queues it then). A pure decision over plain facts: the editor gathers
 * them (trust, the key store, the settings, the runtime's state) and the rule is tested without it.
 */
import { lastUserMessageUnanswered } from '../events/agentWakeups';
import type { RecallRecord } from '../interfaces/recallStore';
import { chatProvider, modelConfigured, type RuntimeConfig } from './runtimeConfig';

export interface LoginAtOpenFacts {
  /** The model settings as they are now. */
  settings: Pick<RuntimeConfig, 'provider' | 'baseUrl'>;
  /** An API key for that provider is stored or in the environment. */
  hasApiKey: boolean;
  /** The folder is trusted (not Restricted Mode). */
  trusted: boolean;
  /** This window has the memory read-only (another window or process writes it). */
  readOnly: boolean;
  /** The newest recall records, oldest first (LOGIN_ANSWER_LOOKBACK_RECORDS of them). */
  recentRecords: readonly RecallRecord[];
}

/** Why the login waits, in the order checked. */
export type LoginWait =
  /**
   * The editor's own models: their consent question must follow a click, not a reload.
   */
  | 'editor-models'
  /**
   * Restricted Mode: the folder's own settings may name the model server, and nothing is sent
   * anywhere before the user acts.
   */
  | 'restricted'
  /** Nothing the turn decides could be written. */
  | 'read-only'
  /** No model server is set up: there is no one to ask. */
  | 'no-model'
  /**
   * The user's last message failed or was stopped: Retry is offered for it, and a login turn
   * ("carry on") would answer it unasked.
   */
  | 'unanswered';

/** Why the login must wait for the agent's next step, or null when it may run at window open. */
export function loginWaitsFor(facts: LoginAtOpenFacts): LoginWait | null {
  const provider = chatProvider(facts.settings);
  if (provider === 'vscode-lm') return 'editor-models';
  if (!facts.trusted) return 'restricted';
  if (facts.readOnly) return 'read-only';
  if (!modelConfigured(facts.settings.baseUrl, facts.hasApiKey, provider)) return 'no-model';
  if (lastUserMessageUnanswered(facts.recentRecords)) return 'unanswered';
  return null;
}
