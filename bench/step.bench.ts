/**
 * The agent's own overhead per step, with a full context window and 10k
 * messages in recall: everything Agent.handle does except waiting for the
 * model (render + recall append + memory check + system rebuild + request
 * assembly + token count + function run + state save), measured with an
 * in-process model that answers instantly. Also the assembly + count alone.
 *
 * Baselines measured in the same run:
 *   - a naive re-count of the whole request each step with gpt-tokenizer's
 *     encodeChat (no memo) plus the tool schemas as JSON;
 *   - a 1-second model call (the target: overhead < 5% of it, i.e. < 50 ms).
 * Steps that flush (summarise) are reported separately: they wait for a
 * model call of their own, so they are not the steady-state overhead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeChat, countTokens } from 'gpt-tokenizer/model/gpt-4o';
import type { ChatModel, ChatRequest, ChatResponse } from '../src/core/interfaces/chatModel';
import { FileRecallStore } from '../src/core/memory/recallStore';
import { AgentStateStore } from '../src/core/agent/agentStateStore';
import { ArchivalIndex } from '../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../src/core/embed/localEmbedder';
import { NodeWorkspace } from '../src/core/workspace/nodeWorkspace';
import { createTokenCounter } from '../src/core/tokens/tokenCounter';
import { Agent } from '../src/core/agent/agent';
import { benchSentence as sentence } from './benchCorpus';

const RECALL_MESSAGES = 10_000;
const STEPS = 40;
const MODEL_CALL_MS = 1000;

class InstantModel implements ChatModel {
  readonly model = 'gpt-4o-mini';
  private n = 0;
  async complete(request: ChatRequest): Promise<ChatResponse> {
    this.n++;
    if (request.tools.length === 0) return { content: `Summary ${this.n}: ${sentence(this.n, 60)}`, toolCalls: [], finishReason: 'stop' };
    return {
      content: 'Answering.',
      toolCalls: [
        {
          id: `c${this.n}`,
          type: 'function',
          function: { name: 'send_message', arguments: JSON.stringify({ message: sentence(this.n, 80) }) },
        },
      ],
      finishReason: 'tool_calls',
    };
  }
  async listModels(): Promise<string[]> {
    return [this.model];
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

async function run(windowTokens: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-step-bench-'));
  const counter = await createTokenCounter('gpt-4o-mini');
  const recall = await FileRecallStore.open(path.join(dir, 'recall'));
  const states = await AgentStateStore.open(path.join(dir, 'agents'));
  const archival = await ArchivalIndex.open({ dir: path.join(dir, 'archival'), embedder: new LocalHashEmbedder() });
  const state = await states.create({ name: 'bench' });
  const t0 = new Date('2024-01-01T00:00:00Z').getTime();
  const batch = [];
  for (let i = 0; i < RECALL_MESSAGES; i++) {
    const time = new Date(t0 + i * 60_000).toISOString();
    batch.push(
      i % 2 === 0
        ? {
            agentId: state.id,
            time,
            kind: 'user' as const,
            message: { role: 'user' as const, content: JSON.stringify({ type: 'user_message', message: sentence(i, 120), time }) },
          }
        : { agentId: state.id, time, kind: 'assistant' as const, message: { role: 'assistant' as const, content: sentence(i, 140) } },
    );
  }
  const stored = [];
  for (let i = 0; i < batch.length; i += 2000) stored.push(...(await recall.append(batch.slice(i, i + 2000))));
  await recall.whenIndexed();

  // Fill the queue to ~85% of the usable window with the newest messages (as a long session would).
  const probe = Agent.fromState(
    { model: new InstantModel(), counter, recall, archival, workspace: new NodeWorkspace([]), states },
    { contextWindow: windowTokens, replyNudge: false },
    state,
  );
  const budget = (windowTokens - 512) * 0.85 - probe.usage().usedTokens;
  let used = 0;
  let k = stored.length;
  while (k > 0 && used < budget) used += counter.countMessage(stored[--k]!.message);
  const filled = { ...state, inContextIds: stored.slice(k + 1).map((r) => r.id), pressureWarned: true };
  await states.save(filled);

  const agent = Agent.fromState(
    { model: new InstantModel(), counter, recall, archival, workspace: new NodeWorkspace([]), states },
    { contextWindow: windowTokens, replyNudge: false },
    filled,
  );
  let flushed = false;
  agent.onEvent((e) => {
    if (e.type === 'system_event' && e.kind === 'summary') flushed = true;
  });
  const steady: number[] = [];
  const flushSteps: number[] = [];
  const assembly: number[] = [];
  const naive: number[] = [];
  const tools = agent.toolSchemas;
  for (let s = 0; s < STEPS; s++) {
    flushed = false;
    const t = performance.now();
    await agent.handle({ type: 'user_message', text: sentence(s, 100) });
    const ms = performance.now() - t;
    (flushed ? flushSteps : steady).push(ms);

    const a = performance.now();
    const msgs = agent.contextMessages();
    counter.countRequest(msgs, tools);
    assembly.push(performance.now() - a);

    const b = performance.now();
    encodeChat(
      msgs.map((m) => ({ role: m.role as 'user', content: m.content ?? JSON.stringify((m as { tool_calls?: unknown }).tool_calls ?? '') })),
    );
    countTokens(JSON.stringify(tools));
    naive.push(performance.now() - b);
  }
  const usage = agent.usage();
  await agent.idle();
  await recall.close();
  await archival.close();
  rmSync(dir, { recursive: true, force: true });
  return { windowTokens, inContext: usage.usedTokens, steady, flushSteps, assembly, naive };
}

async function main() {
  console.log(`step overhead: ${RECALL_MESSAGES} messages in recall, window ~85% full, ${STEPS} steps, instant in-process model`);
  const rows = [];
  for (const w of [8192, 131072]) rows.push(await run(w));
  const f = (x: number) => x.toFixed(2).padStart(8);
  console.log(
    '\nwindow   in-ctx tok | step p50   step p95 | assemble+count p50 | naive encodeChat p50 | naive/ours | step p50 / 1 s call | flush steps (p50 ms)',
  );
  for (const r of rows) {
    const stepP50 = pct(r.steady, 0.5);
    const asm = pct(r.assembly, 0.5);
    const nv = pct(r.naive, 0.5);
    console.log(
      `${String(r.windowTokens).padStart(6)} ${String(r.inContext).padStart(10)} | ${f(stepP50)} ${f(pct(r.steady, 0.95))} | ${f(asm).padStart(18)} | ${f(nv).padStart(20)} | ${(nv / asm).toFixed(1).padStart(9)}x | ${((stepP50 / MODEL_CALL_MS) * 100).toFixed(2).padStart(17)}% | ${r.flushSteps.length} (${r.flushSteps.length ? pct(r.flushSteps, 0.5).toFixed(1) : '-'})`,
    );
  }
  const worst = Math.max(...rows.map((r) => pct(r.steady, 0.5)));
  console.log(
    `\ntarget: step overhead < 5% of a ${MODEL_CALL_MS} ms model call (< ${MODEL_CALL_MS * 0.05} ms): ${worst < MODEL_CALL_MS * 0.05 ? 'met' : 'NOT met'} (worst p50 ${worst.toFixed(2)} ms)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
