/**
 * What the status bar item says for each runtime state (editor-free, unit-tested): the state,
 * what it means and what to do about it; restricted mode is always mentioned.
 */
import { describeEmbedder } from '../core/embed/embedderInfo';
import type { RuntimeActivity } from '../core/runtime/runtimePort';

export interface StatusView {
  text: string;
  tooltip: string;
  warning: boolean;
}

/** One line on what archival search can do: semantic with a model, lexical only without (and how to get one). */
export function searchLine(embedderId: string): string {
  const d = describeEmbedder(embedderId);
  return d.semantic
    ? `Archival search: ${d.label}.`
    : `Archival search: ${d.label}. Run "MemGPT: Download Local Embedding Model" or set memgpt.embeddings.localModelPath for semantic search.`;
}

/** `embedderId`, when known, adds what search can do to the idle tooltip. */
export function statusView(activity: RuntimeActivity, trusted: boolean, embedderId?: string): StatusView {
  const search = embedderId !== undefined ? `\n${searchLine(embedderId)}` : '';
  const restricted = trusted
    ? ''
    : '\n\nRestricted Mode: this workspace is not trusted, so MemGPT indexes no files and the agent cannot read them. Chat and memory still work. Trust the workspace to enable them.';
  const suffix = trusted ? '' : ' $(shield)';
  switch (activity.kind) {
    case 'starting':
      return { text: `$(loading~spin) MemGPT${suffix}`, tooltip: `MemGPT is starting.${restricted}`, warning: false };
    case 'idle':
      return { text: `$(hubot) MemGPT${suffix}`, tooltip: `MemGPT is idle. Click to open the chat.${search}${restricted}`, warning: false };
    case 'thinking':
      return {
        text: `$(sync~spin) MemGPT: thinking${suffix}`,
        tooltip: `MemGPT is working on a reply. Click to open the chat.${restricted}`,
        warning: false,
      };
    case 'indexing': {
      const pct = activity.filesTotal > 0 ? Math.floor((100 * activity.filesDone) / activity.filesTotal) : 0;
      const state = activity.paused ? 'indexing paused' : 'indexing';
      return {
        text: `$(${activity.paused ? 'debug-pause' : 'database'}) MemGPT: ${state} ${pct}%`,
        tooltip: `MemGPT is ${state}: ${activity.filesDone} of ${activity.filesTotal} files. ${activity.paused ? 'Run "MemGPT: Resume Indexing" to continue.' : 'Run "MemGPT: Pause Indexing" to pause.'}${restricted}`,
        warning: false,
      };
    }
    case 'read-only':
      return {
        text: `$(lock) MemGPT: read-only${suffix}`,
        tooltip: `MemGPT is read-only in this window: ${activity.reason}\nClose the other window of this workspace (or use it to chat), then reload this one.${restricted}`,
        warning: true,
      };
    case 'failed':
      return {
        text: `$(error) MemGPT${suffix}`,
        tooltip: `MemGPT did not start: ${activity.message}\nSee the MemGPT output for details.${restricted}`,
        warning: true,
      };
  }
}
