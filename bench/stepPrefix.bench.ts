/**
 * Prompt caching across the steps of one turn: the share of each request's prompt tokens that
 * are identical to the previous request's (their common prefix), over a 10-step turn without
 * memory edits (9 conversation_search calls with heartbeats, then send_message). Providers'
 * prompt caches reuse exactly that prefix, so this is the share of the prompt that is cheap to resend.
 *
 * Both figures come from the same run and the same scenario (8192-token window, 200 messages in
 * recall, a summary at the head of the queue, an in-process model that records every request):
 *   - "now": this tree's agent;
 *   - "before": the agent of commit BASELINE_COMMIT (the last one before the system and summary
 *     messages were kept stable), extracted with `git archive` into a temporary folder and run
 *     as it is. Without git (a packaged copy) the baseline is skipped and said so.
 * Tokens: gpt-tokenizer's o200k encoding of the tool schemas followed by every message
 * (role marker, text, tool calls), the order in which servers lay out a prompt.
 * Target: now ≥ 90%.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { encode } from 'gpt-tokenizer/model/gpt-4o';
import type { ChatMessage, ChatModel, ChatRequest, ChatResponse, ToolSchema } from '../src/core/interfaces/chatModel';
import { benchSentence as sentence } from './benchCorpus';

const BASELINE_COMMIT = '450eee9';
const STEPS = 10;
const WINDOW = 8192;
const HISTORY = 200;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Nine searches with heartbeats, then a reply; every request is kept. */
class RecordingModel implements ChatModel {
  readonly model = 'gpt-4o-mini';
  readonly requests: { messages: ChatMessage[]; tools: ToolSchema[] }[] = [];
  async complete(request: ChatRequest): Promise<ChatResponse> {
    if (request.tools.length === 0) return { content: `Summary: ${sentence(1, 60)}`, toolCalls: [], finishReason: 'stop' };
    this.requests.push({ messages: structuredClone(request.messages), tools: request.tools });
    const n = this.requests.length;
    const call =
      n < STEPS
        ? {
            name: 'conversation_search',
            arguments: JSON.stringify({ query: ['config', 'render', 'token'][n % 3], page: n % 2, request_heartbeat: true }),
          }
        : { name: 'send_message', arguments: JSON.stringify({ message: 'Here is what I found.' }) };
    return { content: `Step ${n}.`, toolCalls: [{ id: `call${n}`, type: 'function', function: call }], finishReason: 'tool_calls' };
  }
  async listModels(): Promise<string[]> {
    return [this.model];
  }
}

function promptTokens(r: { messages: ChatMessage[]; tools: ToolSchema[] }): number[] {
  const parts = [JSON.stringify(r.tools)];
  for (const m of r.messages) {
    parts.push(`<|${m.role}|>`, m.content ?? '');
    if (m.role === 'assistant' && m.tool_calls) parts.push(JSON.stringify(m.tool_calls));
    if (m.role === 'tool') parts.push(m.tool_call_id);
  }
  return encode(parts.join('\n'));
}

function commonPrefix(a: number[], b: number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Runs the scenario with the agent of the tree at `tree` (this repository, or an extracted commit). */
async function measure(tree: string): Promise<{ share: number; perStep: number[]; tokens: number }> {
  const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(tree, rel)).href)) as T;
  const { Agent } = await load<typeof import('../src/core/agent/agent')>('src/core/agent/agent.ts');
  const { FileRecallStore } = await load<typeof import('../src/core/memory/recallStore')>('src/core/memory/recallStore.ts');
  const { AgentStateStore } = await load<typeof import('../src/core/agent/agentStateStore')>('src/core/agent/agentStateStore.ts');
  const { ArchivalIndex } = await load<typeof import('../src/core/index/archivalIndex')>('src/core/index/archivalIndex.ts');
  const { LocalHashEmbedder } = await load<typeof import('../src/core/embed/localEmbedder')>('src/core/embed/localEmbedder.ts');
  const { NodeWorkspace } = await load<typeof import('../src/core/workspace/nodeWorkspace')>('src/core/workspace/nodeWorkspace.ts');
  const { createTokenCounter } = await load<typeof import('../src/core/tokens/tokenCounter')>('src/core/tokens/tokenCounter.ts');

  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-prefix-bench-'));
  try {
    const counter = await createTokenCounter('gpt-4o-mini');
    const recall = await FileRecallStore.open(path.join(dir, 'recall'));
    const states = await AgentStateStore.open(path.join(dir, 'agents'));
    const archival = await ArchivalIndex.open({ dir: path.join(dir, 'archival'), embedder: new LocalHashEmbedder() });
    const state = await states.create({ name: 'bench' });
    const t0 = new Date('2024-01-01T00:00:00Z').getTime();
    const stored = await recall.append(
      Array.from({ length: HISTORY }, (_, i) => {
        const time = new Date(t0 + i * 60_000).toISOString();
        return i % 2 === 0
          ? {
              agentId: state.id,
              time,
              kind: 'user' as const,
              message: { role: 'user' as const, content: JSON.stringify({ type: 'user_message', message: sentence(i, 40), time }) },
            }
          : { agentId: state.id, time, kind: 'assistant' as const, message: { role: 'assistant' as const, content: sentence(i, 50) } };
      }),
    );
    // The newest 20 messages in context, the rest behind a summary: a session some way in.
    const started = {
      ...state,
      inContextIds: stored.slice(-20).map((r) => r.id),
      summary: { text: `Earlier: ${sentence(7, 120)}`, recallIdsCovered: HISTORY - 20, updatedAt: new Date(t0).toISOString() },
    };
    const model = new RecordingModel();
    const agent = Agent.fromState(
      { model, counter, recall, archival, workspace: new NodeWorkspace([]), states },
      { contextWindow: WINDOW, replyNudge: false },
      started,
    );
    const r = await agent.handle({ type: 'user_message', text: 'What did we decide about the config parser?' });
    await agent.idle();
    await recall.close();
    await archival.close();
    if (r.reason !== 'done' || model.requests.length !== STEPS)
      throw new Error(`the turn ended ${r.reason} after ${model.requests.length} requests ${r.error ?? ''}`);
    const tokens = model.requests.map(promptTokens);
    let same = 0;
    let all = 0;
    const perStep: number[] = [];
    for (let i = 1; i < tokens.length; i++) {
      const p = commonPrefix(tokens[i]!, tokens[i - 1]!);
      same += p;
      all += tokens[i]!.length;
      perStep.push(p / tokens[i]!.length);
    }
    return { share: same / all, perStep, tokens: Math.round(all / (tokens.length - 1)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The source tree of the baseline commit in a temporary folder, or a reason it is not available. */
function extractBaseline(): { tree: string } | { reason: string } {
  const tree = mkdtempSync(path.join(tmpdir(), 'memgpt-prefix-baseline-'));
  const archive = spawnSync('git', ['-C', root, 'archive', '--format=tar', BASELINE_COMMIT, 'src'], { maxBuffer: 512 * 1024 * 1024 });
  if (archive.status !== 0) return { reason: `git archive ${BASELINE_COMMIT} failed: ${archive.stderr.toString().trim() || 'no git'}` };
  const untar = spawnSync('tar', ['-x', '-C', tree], { input: archive.stdout });
  if (untar.status !== 0) return { reason: `tar failed: ${untar.stderr.toString().trim()}` };
  symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
  return { tree };
}

async function main() {
  console.log(
    `prompt prefix reuse: a ${STEPS}-step turn without memory edits, ${WINDOW}-token window, ${HISTORY} messages in recall, a summary in context`,
  );
  const now = await measure(root);
  const base = extractBaseline();
  const before = 'tree' in base ? await measure(base.tree) : null;
  if ('tree' in base) rmSync(base.tree, { recursive: true, force: true });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
    '\n           share of prompt tokens identical to the previous request | per step (2..10)                                   | avg prompt tokens',
  );
  if (before)
    console.log(
      `before     ${pct(before.share).padStart(8)} (commit ${BASELINE_COMMIT}, run from git archive)          | ${before.perStep.map(pct).join(' ')} | ${before.tokens}`,
    );
  else console.log(`before     not measured: ${'reason' in base ? base.reason : ''}`);
  console.log(
    `now        ${pct(now.share).padStart(8)}                                                | ${now.perStep.map(pct).join(' ')} | ${now.tokens}`,
  );
  console.log(`\ntarget: ≥ 90% of prompt tokens reused between steps: ${now.share >= 0.9 ? 'met' : 'NOT met'}`);
  if (now.share < 0.9) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
