/**
 * One line that says why the user is still waiting for the model: the chat shows it as status
 * text, the command line prints it to stderr. Worded once here so both say the same.
 */
import type { ModelWait } from '../interfaces/chatModel';
import { seconds } from './chatModelErrors';

export function describeModelWait(wait: ModelWait): string {
  if (wait.kind === 'waiting') return `Waiting for the model at ${wait.baseUrl}… ${Math.round(wait.elapsedMs / 1000)} s`;
  return `Retrying in ${seconds(wait.delayMs)}: ${wait.reason}`;
}
