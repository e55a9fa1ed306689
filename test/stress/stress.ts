/**
 * `npm run stress`: the long reliability runs, with figures.
 *
 *   1. crash safety: SIGKILL at random moments during recall appends and state
 *      saves, index updates and flushes, and whole agent turns (>= 200 kills);
 *   2. two windows on one storage folder, several times over;
 *   3. provider faults in random order on one long conversation;
 *   4. the tool-call fuzzer at 100,000 payloads.
 * Prints a table and writes artifacts/stress/figures.json. Exits non-zero when
 * any check failed or any acknowledged message was lost.
 *
 * Options (env): MEMGPT_SEED (replay), MEMGPT_STRESS_SCALE (e.g. 0.1 for a quick
 * run; 1 by default), MEMGPT_STRESS_ONLY=crash,windows,faults,fuzz.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seededRandom, seedFromEnv } from '../fixtures/reliability/seededRandom';
import { agentCrashRounds, indexCrashRounds, recallCrashRounds, twoWindows, type CrashFigures } from '../fixtures/reliability/crashRounds';
import {
  FaultDirector,
  FAULT_MAX_RETRIES,
  FAULT_REQUEST_TIMEOUT_MS,
  PROVIDER_FAULTS,
  runFaultTurn,
  duplicatedContextMessages,
} from '../fixtures/reliability/providerFaults';
import { makeRig, conversationProblems, userTexts } from '../fixtures/reliability/agentRig';
import { makeFuzzRig } from '../fixtures/reliability/fuzzContext';
import { runFuzz } from '../fixtures/reliability/toolCallFuzzer';
import { sendMessage, type FakeStep } from '../fixtures/fakeOpenAIServer';

const root = path.resolve(__dirname, '..', '..');
const scale = Number(process.env.MEMGPT_STRESS_SCALE ?? '1') || 1;
const only = new Set((process.env.MEMGPT_STRESS_ONLY ?? 'crash,windows,faults,fuzz').split(',').map((s) => s.trim()));
const n = (full: number, min = 1) => Math.max(min, Math.round(full * scale));

const KILLS = { recall: n(90), index: n(70), agent: n(50) };
const WINDOW_RUNS = n(5);
const FAULT_TURNS = n(240);
const FUZZ_PAYLOADS = n(100_000, 1000);

interface Figures {
  seed: number;
  scale: number;
  startedAt: string;
  seconds: number;
  killsSurvived: number;
  kills: Record<string, CrashFigures & { problems: string[] }>;
  acknowledgedWrites: number;
  repairsOnReopen: number;
  twoWindowRuns: number;
  faultsInjected: number;
  faultTurns: number;
  faultsByKind: Record<string, number>;
  payloadsFuzzed: number;
  fuzzUncaught: number;
  messagesLost: number;
  problems: string[];
}

/** A scripted step that is a fault (not the healthy reply that ends a recovered turn). */
function isFault(step: FakeStep): boolean {
  if (step.kind !== 'reply') return true;
  return step.resetAfterChunks !== undefined || step.malformedAfterChunks !== undefined || step.hangAfterChunks !== undefined;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  // The openai SDK prints every malformed SSE chunk it drops; the malformed-SSE fault makes hundreds.
  const consoleError = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /^(Could not parse message into JSON:|From chunk:)/.test(args[0])) return;
    consoleError(...args);
  };
  const seed = seedFromEnv();
  const started = performance.now();
  const fig: Figures = {
    seed,
    scale,
    startedAt: new Date().toISOString(),
    seconds: 0,
    killsSurvived: 0,
    kills: {},
    acknowledgedWrites: 0,
    repairsOnReopen: 0,
    twoWindowRuns: 0,
    faultsInjected: 0,
    faultTurns: 0,
    faultsByKind: {},
    payloadsFuzzed: 0,
    fuzzUncaught: 0,
    messagesLost: 0,
    problems: [],
  };
  log(`stress: seed ${seed} (replay with MEMGPT_SEED=${seed}), scale ${scale}`);

  if (only.has('crash')) {
    const runs: [string, (k: number) => Promise<CrashFigures>, number][] = [
      ['recall appends + state saves', (k) => recallCrashRounds(k, seededRandom(seed)), KILLS.recall],
      ['index updates + flushes', (k) => indexCrashRounds(k, seededRandom(seed + 1)), KILLS.index],
      ['agent turns', (k) => agentCrashRounds(k, seededRandom(seed + 2), { turnCheckEvery: 5 }), KILLS.agent],
    ];
    for (const [name, run, kills] of runs) {
      log(`crash: ${name}, ${kills} SIGKILLs…`);
      const f = await run(kills);
      fig.kills[name] = f;
      fig.killsSurvived += f.problems.length === 0 ? f.kills : 0;
      fig.acknowledgedWrites += f.acknowledged;
      fig.repairsOnReopen += f.repairs;
      fig.messagesLost += f.lost;
      fig.problems.push(...f.problems.map((p) => `crash/${name}: ${p}`));
      log(
        `  ${f.kills} kills, ${f.acknowledged} acknowledged, ${f.lost} lost, ${f.repairs} repairs on reopen, ${f.problems.length} problems, ${(f.ms / 1000).toFixed(1)} s`,
      );
    }
  }

  if (only.has('windows')) {
    log(`two windows: ${WINDOW_RUNS} runs…`);
    for (let i = 0; i < WINDOW_RUNS; i++) {
      const r = await twoWindows();
      fig.twoWindowRuns++;
      fig.problems.push(...r.problems.map((p) => `two windows #${i}: ${p}`));
      if (i === 0) log(`  the second window says: "${r.readOnlyReason}"`);
    }
  }

  if (only.has('faults')) {
    log(`provider faults: ${FAULT_TURNS} turns in random order on one conversation…`);
    const rng = seededRandom(seed + 3);
    const director = new FaultDirector();
    const rig = await makeRig({
      server: { responder: director.responder },
      maxRetries: FAULT_MAX_RETRIES,
      requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS,
    });
    const t0 = performance.now();
    try {
      const texts: string[] = [];
      for (let turn = 1; turn <= FAULT_TURNS; turn++) {
        const fault = rng.pick(PROVIDER_FAULTS);
        const injected = fault.steps('x').filter(isFault).length;
        fig.faultsInjected += injected;
        fig.faultsByKind[fault.name] = (fig.faultsByKind[fault.name] ?? 0) + injected;
        fig.faultTurns++;
        texts.push(`turn ${turn}: please survive "${fault.name}"`);
        fig.problems.push(...(await runFaultTurn(rig, director, fault, turn)).map((p) => `faults: ${p}`));
        if (turn % 40 === 0) {
          await rig.restart();
          const users = userTexts(rig.records());
          const lost = texts.filter((t) => !users.includes(t));
          fig.messagesLost += lost.length;
          if (lost.length > 0) fig.problems.push(`faults: ${lost.length} user messages lost by turn ${turn}`);
          for (const p of conversationProblems(rig.records())) fig.problems.push(`faults, turn ${turn}: ${p}`);
          director.play([sendMessage('checkpoint')]);
          await rig.agent.handle({ type: 'user_message', text: `checkpoint ${turn}` });
          texts.push(`checkpoint ${turn}`);
          for (const d of duplicatedContextMessages(rig.server.chatRequests().at(-1)!))
            fig.problems.push(`faults, turn ${turn}: duplicated in context: ${d}`);
        }
      }
    } finally {
      await rig.close();
    }
    log(`  ${fig.faultTurns} turns, ${fig.faultsInjected} faults injected, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  if (only.has('fuzz')) {
    log(`fuzz: ${FUZZ_PAYLOADS} tool-call payloads…`);
    const rng = seededRandom(seed + 4);
    const rig = await makeFuzzRig(rng);
    try {
      const s = await runFuzz({
        rng,
        count: FUZZ_PAYLOADS,
        functions: rig.functions,
        context: () => rig.context(),
        workspaceFiles: rig.ws.readable,
        afterEach: rig.afterEach,
      });
      fig.payloadsFuzzed = s.payloads;
      fig.fuzzUncaught = s.uncaught;
      for (const v of s.violations) fig.problems.push(`fuzz: ${v.problem} — ${v.payload.name}(${v.payload.arguments.slice(0, 120)})`);
      for (const f of rig.changedFiles()) fig.problems.push(`fuzz: the workspace file ${f} changed`);
      log(`  ${s.payloads} payloads, ${s.ok} OK, ${s.failed} Failed, ${s.uncaught} uncaught, ${(s.ms / 1000).toFixed(1)} s`);
    } finally {
      await rig.close();
    }
  }

  fig.seconds = Math.round((performance.now() - started) / 1000);
  const rows: [string, string][] = [
    ['kills survived', `${fig.killsSurvived} of ${Object.values(fig.kills).reduce((s, k) => s + k.kills, 0)}`],
    ...Object.entries(fig.kills).map(([k, f]): [string, string] => [
      `  ${k}`,
      `${f.kills} kills, ${f.acknowledged} acknowledged writes, ${f.repairs} repairs`,
    ]),
    ['two-window runs', String(fig.twoWindowRuns)],
    ['faults injected', `${fig.faultsInjected} in ${fig.faultTurns} turns`],
    ['payloads fuzzed', `${fig.payloadsFuzzed} (${fig.fuzzUncaught} uncaught)`],
    ['messages lost', String(fig.messagesLost)],
    ['problems', String(fig.problems.length)],
    ['time', `${fig.seconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  log('\n┌─ reliability figures ' + '─'.repeat(40));
  for (const [k, v] of rows) log(`│ ${k.padEnd(width)}  ${v}`);
  log('└' + '─'.repeat(62));
  for (const p of fig.problems.slice(0, 40)) log(`PROBLEM ${p}`);
  const out = path.join(root, 'artifacts', 'stress', 'figures.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(fig, null, 2) + '\n');
  log(`figures: ${path.relative(root, out)}`);
  process.exit(fig.problems.length === 0 && fig.messagesLost === 0 && fig.fuzzUncaught === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`stress: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
