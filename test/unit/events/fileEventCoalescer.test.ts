import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { AgentInput } from '../../../src/core/agent/events';
import { FileEventCoalescer, type FileEventMode, type FileEventSink } from '../../../src/core/events/fileEventCoalescer';
import { WakeBudget } from '../../../src/core/events/wakeBudget';
import {
  DEFAULT_FILE_EVENT_IDLE_DELAY_MS,
  FILE_EVENT_DEBOUNCE_MS,
  FILE_EVENT_MAX_DELAY_MS,
  FILE_EVENT_MAX_INPUTS_PER_FLUSH,
  FILE_EVENT_WAKES_PER_HOUR,
} from '../../../src/core/limits';
import { FakeTimers, settle } from './fakeTimers';

class RecordingSink implements FileEventSink {
  readonly enqueued: AgentInput[][] = [];
  readonly woken: AgentInput[] = [];
  busy = false;
  failNext = 0;
  async enqueue(inputs: AgentInput[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('storage is read-only');
    }
    this.enqueued.push(inputs);
  }
  async wake(input: AgentInput): Promise<void> {
    this.woken.push(input);
  }
  isBusy(): boolean {
    return this.busy;
  }
  get all(): AgentInput[] {
    return this.enqueued.flat();
  }
}

function setup(mode: FileEventMode = 'queue', extra: { budget?: WakeBudget; idleDelayMs?: number } = {}) {
  const timers = new FakeTimers();
  const sink = new RecordingSink();
  let currentMode = mode;
  const skipped: string[] = [];
  const errors: unknown[] = [];
  const coalescer = new FileEventCoalescer({
    sink,
    timers,
    mode: () => currentMode,
    idleDelayMs: () => extra.idleDelayMs ?? DEFAULT_FILE_EVENT_IDLE_DELAY_MS,
    ...(extra.budget ? { budget: extra.budget } : {}),
    onWakeSkipped: (reason) => skipped.push(reason),
    onError: (e) => errors.push(e),
  });
  return { timers, sink, coalescer, skipped, errors, setMode: (m: FileEventMode) => (currentMode = m) };
}

describe('FileEventCoalescer', () => {
  it('delivers nothing before the debounce, then one event per file', async () => {
    const { timers, sink, coalescer } = setup();
    coalescer.record('opened', 'src/a.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS - 1);
    assert.equal(sink.enqueued.length, 0);
    await timers.advance(1);
    assert.deepEqual(sink.enqueued, [[{ type: 'file_opened', path: 'src/a.ts' }]]);
  });

  it('coalesces many saves of one file into one event, and a save supersedes an open', async () => {
    const { timers, sink, coalescer } = setup();
    coalescer.record('opened', 'src/a.ts');
    for (let i = 0; i < 50; i++) {
      coalescer.record('saved', 'src/a.ts');
      await timers.advance(100);
    }
    await timers.advance(FILE_EVENT_DEBOUNCE_MS);
    assert.deepEqual(sink.all, [{ type: 'file_saved', path: 'src/a.ts' }]);
  });

  it('does not let constant saving starve delivery: flushes by the max delay', async () => {
    const { timers, sink, coalescer } = setup();
    let elapsed = 0;
    while (sink.enqueued.length === 0 && elapsed < FILE_EVENT_MAX_DELAY_MS * 2) {
      coalescer.record('saved', 'src/busy.ts');
      await timers.advance(FILE_EVENT_DEBOUNCE_MS / 2);
      elapsed += FILE_EVENT_DEBOUNCE_MS / 2;
    }
    assert.equal(sink.enqueued.length, 1);
    assert.ok(elapsed <= FILE_EVENT_MAX_DELAY_MS + FILE_EVENT_DEBOUNCE_MS, `delivered after ${elapsed} ms`);
  });

  it('bounds a burst of many files: newest as single events, the rest in one combined alert', async () => {
    const { timers, sink, coalescer } = setup();
    const paths = Array.from({ length: 40 }, (_, i) => `src/file${i}.ts`);
    for (const p of paths) coalescer.record(p.endsWith('7.ts') ? 'opened' : 'saved', p);
    await timers.advance(FILE_EVENT_DEBOUNCE_MS);
    const inputs = sink.all;
    assert.equal(inputs.length, FILE_EVENT_MAX_INPUTS_PER_FLUSH + 1);
    const [alert, ...singles] = inputs;
    assert.equal(alert?.type, 'system_alert');
    assert.deepEqual(
      singles.map((s) => (s.type === 'file_saved' || s.type === 'file_opened' ? s.path : '?')),
      paths.slice(-FILE_EVENT_MAX_INPUTS_PER_FLUSH),
    );
    const text = alert?.type === 'system_alert' ? alert.text : '';
    // 35 older files: 31 saved (src/file7, 17, 27 were opened... and 37 is a single), named up to the list limit.
    assert.match(text, /saved 32 files: src\/file0\.ts, src\/file1\.ts/);
    assert.match(text, /\(and 12 more\)/);
    assert.match(text, /opened 3 files: src\/file7\.ts, src\/file17\.ts, src\/file27\.ts/);
    // Every path is accounted for exactly once, either named, counted or single.
    assert.ok(!text.includes('src/file39.ts'));
  });

  it('records nothing in "off" mode, and drops a batch if turned off before it is delivered', async () => {
    const { timers, sink, coalescer, setMode } = setup('off');
    coalescer.record('saved', 'a.ts');
    assert.equal(coalescer.pendingCount, 0);
    setMode('queue');
    coalescer.record('saved', 'b.ts');
    setMode('off');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS);
    assert.equal(sink.enqueued.length, 0);
  });

  it('never wakes the agent in "queue" mode', async () => {
    const { timers, sink, coalescer } = setup('queue');
    coalescer.record('saved', 'a.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS + DEFAULT_FILE_EVENT_IDLE_DELAY_MS * 3);
    assert.equal(sink.woken.length, 0);
    assert.equal(sink.enqueued.length, 1);
  });

  it('"wake" mode: enqueues at once, wakes once after the idle delay, and new events postpone it', async () => {
    const idle = 10_000;
    const { timers, sink, coalescer } = setup('wake', { idleDelayMs: idle });
    coalescer.record('saved', 'a.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS);
    assert.equal(sink.enqueued.length, 1, 'durable before any wake-up');
    await timers.advance(idle - 1000);
    coalescer.record('opened', 'b.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS + idle - 1);
    assert.equal(sink.woken.length, 0, 'the second event restarted the idle wait');
    await timers.advance(1);
    assert.equal(sink.woken.length, 1);
    const wake = sink.woken[0];
    assert.equal(wake?.type, 'heartbeat');
    assert.match(wake?.type === 'heartbeat' ? wake.reason : '', /a\.ts, b\.ts/);
    await timers.advance(idle * 5);
    assert.equal(sink.woken.length, 1, 'one wake-up per idle period');
  });

  it('"wake" mode respects the hourly budget and still queues every event past it', async () => {
    const idle = 1000;
    const budget = new WakeBudget(FILE_EVENT_WAKES_PER_HOUR, 60 * 60 * 1000);
    const { timers, sink, coalescer, skipped } = setup('wake', { budget, idleDelayMs: idle });
    const rounds = FILE_EVENT_WAKES_PER_HOUR * 3;
    for (let i = 0; i < rounds; i++) {
      coalescer.record('saved', `f${i}.ts`);
      await timers.advance(FILE_EVENT_DEBOUNCE_MS + idle);
    }
    assert.equal(sink.woken.length, FILE_EVENT_WAKES_PER_HOUR);
    assert.equal(sink.all.length, rounds, 'no event lost');
    assert.equal(skipped.filter((s) => s === 'budget').length, rounds - FILE_EVENT_WAKES_PER_HOUR);
    await timers.advance(60 * 60 * 1000);
    coalescer.record('saved', 'later.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS + idle);
    assert.equal(sink.woken.length, FILE_EVENT_WAKES_PER_HOUR + 1, 'the budget refills as the hour rolls');
  });

  it('does not wake (or spend budget) while a turn is running', async () => {
    const budget = new WakeBudget(1);
    const { timers, sink, coalescer, skipped } = setup('wake', { budget, idleDelayMs: 1000 });
    sink.busy = true;
    coalescer.record('saved', 'a.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS + 1000);
    assert.deepEqual(skipped, ['busy']);
    assert.equal(budget.remaining(timers.now()), 1);
  });

  it('keeps events when delivery fails and sends them with the next batch', async () => {
    const { timers, sink, coalescer, errors } = setup();
    sink.failNext = 1;
    coalescer.record('saved', 'a.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS);
    assert.equal(errors.length, 1);
    assert.equal(sink.enqueued.length, 0);
    coalescer.record('opened', 'b.ts');
    await timers.advance(FILE_EVENT_DEBOUNCE_MS);
    assert.deepEqual(sink.all, [
      { type: 'file_saved', path: 'a.ts' },
      { type: 'file_opened', path: 'b.ts' },
    ]);
  });

  it('dispose delivers what is pending (queued, no wake-up) and stops the timers', async () => {
    const { timers, sink, coalescer } = setup('wake', { idleDelayMs: 1000 });
    coalescer.record('saved', 'a.ts');
    await coalescer.dispose();
    assert.deepEqual(sink.all, [{ type: 'file_saved', path: 'a.ts' }]);
    await timers.advance(60_000);
    assert.equal(sink.woken.length, 0);
    assert.equal(timers.pending, 0);
    coalescer.record('saved', 'b.ts');
    assert.equal(coalescer.pendingCount, 0, 'a disposed coalescer records nothing');
  });

  it('works on the real timers too (node mock timers)', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const sink = new RecordingSink();
      const coalescer = new FileEventCoalescer({ sink, mode: () => 'queue' });
      coalescer.record('saved', 'x.ts');
      coalescer.record('saved', 'x.ts');
      mock.timers.tick(FILE_EVENT_DEBOUNCE_MS - 1);
      await settle();
      assert.equal(sink.enqueued.length, 0);
      mock.timers.tick(1);
      await settle();
      assert.deepEqual(sink.all, [{ type: 'file_saved', path: 'x.ts' }]);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('WakeBudget', () => {
  it('allows max wake-ups per rolling window and says when the next one is free', () => {
    const b = new WakeBudget(2, 1000);
    assert.equal(b.tryTake(0), true);
    assert.equal(b.tryTake(400), true);
    assert.equal(b.tryTake(500), false);
    assert.equal(b.remaining(500), 0);
    assert.equal(b.nextAvailableAt(500), 1000);
    assert.equal(b.tryTake(1000), true, 'the first one rolled out of the window');
    assert.equal(b.tryTake(1001), false);
    assert.equal(b.tryTake(1400), true);
  });

  it('a zero budget never wakes and rejects nonsense sizes', () => {
    const b = new WakeBudget(0);
    assert.equal(b.tryTake(0), false);
    assert.equal(b.nextAvailableAt(0), Number.POSITIVE_INFINITY);
    assert.throws(() => new WakeBudget(-1), RangeError);
    assert.throws(() => new WakeBudget(1.5), RangeError);
    assert.throws(() => new WakeBudget(1, 0), RangeError);
  });
});
