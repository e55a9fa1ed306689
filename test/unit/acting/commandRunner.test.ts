import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { commandEnvironment } from '../../../src/core/acting/commandEnvironment';
import { CommandError, runCommand, type CommandErrorCode } from '../../../src/core/acting/commandRunner';
import { ConfinementError } from '../../../src/core/acting/confinement';
import { OutputCapture } from '../../../src/core/acting/outputCapture';
import { COMMAND_MAX_TIMEOUT_S } from '../../../src/core/limits';
import { isProcessAlive } from '../../../src/core/storage/processes';

const windows = process.platform === 'win32';
const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'memgpt-acting-run-')));
after(() => rmSync(scratch, { recursive: true, force: true }));
const proj = path.join(scratch, 'proj');
mkdirSync(path.join(proj, 'src'), { recursive: true });
mkdirSync(path.join(scratch, 'outside'));
symlinkSync(path.join(scratch, 'outside'), path.join(proj, 'out'));
const roots = [{ name: 'proj', path: proj }];
const API_KEY = 'sk-test-0123456789abcdefABCDEF';

/** Alive and not a zombie (a container's init may reap orphans late; a zombie runs nothing). */
function running(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

async function refused(code: CommandErrorCode, p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof CommandError && err.code === code);
}

test('the environment loses credentials by name and by value, and gets no-prompt settings', () => {
  const { env, removed } = commandEnvironment(
    {
      PATH: '/usr/bin',
      HOME: '/home/u',
      OPENAI_API_KEY: API_KEY,
      GITHUB_TOKEN: 'ghp_x',
      aws_secret_access_key: 'x',
      DB_PASSWORD: 'x',
      Api_Key_Extra: 'x',
      MODEL_URL_WITH_KEY_INSIDE: 'x',
      SOME_VAR: `Bearer ${API_KEY}`,
      KEYBOARD_LAYOUT: 'us', // contains KEY: stripped too (the rule is by name, deliberately broad)
      SHORT: 'abc',
    },
    [API_KEY, 'abc', undefined],
  );
  assert.deepEqual(Object.keys(env).sort(), ['GIT_PAGER', 'GIT_TERMINAL_PROMPT', 'HOME', 'PAGER', 'PATH', 'SHORT']);
  assert.deepEqual(removed, [
    'Api_Key_Extra',
    'DB_PASSWORD',
    'GITHUB_TOKEN',
    'KEYBOARD_LAYOUT',
    'MODEL_URL_WITH_KEY_INSIDE',
    'OPENAI_API_KEY',
    'SOME_VAR',
    'aws_secret_access_key',
  ]);
  assert.equal(env.GIT_TERMINAL_PROMPT, '0');
});

test('OutputCapture keeps head and tail exactly, says the cut in bytes, and cuts at character seams', () => {
  for (let round = 0; round < 200; round++) {
    const total = Math.floor(Math.random() * 120);
    const data = Buffer.from(Array.from({ length: total }, (_, i) => 97 + (i % 26)));
    const cap = new OutputCapture(10, 13);
    for (let at = 0; at < total;) {
      const n = 1 + Math.floor(Math.random() * 30);
      cap.write(data.subarray(at, at + n));
      at += n;
    }
    const text = cap.text();
    if (total <= 23) assert.equal(text, data.toString());
    else {
      assert.equal(
        text,
        `${data.subarray(0, 10).toString()}\n[… ${total - 23} bytes of output cut here; ${total} bytes in all, the first 10 and the last 13 are shown …]\n${data.subarray(total - 13).toString()}`,
      );
    }
  }
  const cap = new OutputCapture(4, 4);
  cap.write(Buffer.from('aaéé…bbbé€€'));
  assert.doesNotMatch(cap.text(), /\uFFFD/);
});

test('runs in the workspace folder with a shell; output, exit code, no stdin', { skip: windows }, async () => {
  const r = await runCommand({ command: 'echo out; echo err 1>&2; pwd; cat; exit 3' }, { roots });
  assert.equal(r.exitCode, 3);
  assert.equal(r.signal, null);
  // stdout and stderr are two pipes: their relative order is not guaranteed, only their content.
  assert.deepEqual(r.output.split('\n').sort(), ['', proj, 'err', 'out'].sort());
  assert.deepEqual([r.cwd, r.timedOut, r.stopped, r.outputTruncated], ['.', false, false, false]);
  const inSrc = await runCommand({ command: 'pwd', cwd: 'src' }, { roots });
  assert.deepEqual([inSrc.output, inSrc.cwd, inSrc.exitCode], [`${path.join(proj, 'src')}\n`, 'src', 0]);
});

test('the folder is confined and the request checked before anything runs', async () => {
  const marker = path.join(scratch, 'ran.txt');
  for (const cwd of ['..', '/tmp', 'out', '.git', 'missing']) {
    await assert.rejects(runCommand({ command: `echo x > ${marker}`, cwd }, { roots }), ConfinementError, cwd);
  }
  await refused('empty-command', runCommand({ command: '  ' }, { roots }));
  await refused('too-long', runCommand({ command: 'x'.repeat(10_000) }, { roots }));
  await refused('bad-timeout', runCommand({ command: 'true', timeout_seconds: -1 }, { roots }));
  await refused('bad-timeout', runCommand({ command: 'true', timeout_seconds: Number.NaN }, { roots }));
  const ac = new AbortController();
  ac.abort();
  await refused('aborted', runCommand({ command: `echo x > ${marker}` }, { roots, signal: ac.signal }));
  assert.throws(() => readFileSync(marker), /ENOENT/);
  const clamped = await runCommand({ command: 'true', timeout_seconds: 99_999 }, { roots });
  assert.deepEqual([clamped.timeoutSeconds, clamped.timeoutClamped], [COMMAND_MAX_TIMEOUT_S, true]);
});

test('a command printing its environment sees no credentials; a leaked key is masked', { skip: windows }, async () => {
  const r = await runCommand(
    { command: `env; echo "literal ${API_KEY}"` },
    {
      roots,
      secretValues: [API_KEY],
      baseEnv: {
        PATH: process.env.PATH,
        OPENAI_API_KEY: API_KEY,
        GITHUB_TOKEN: 'ghp_abcdef123456',
        NPM_TOKEN: 'n',
        MY_PASSWORD: 'p',
        ClientSecret: 's',
        OTHER: API_KEY,
        VISIBLE: 'yes',
      },
    },
  );
  assert.match(r.output, /^VISIBLE=yes$/m);
  assert.match(r.output, /^GIT_TERMINAL_PROMPT=0$/m);
  for (const name of ['OPENAI_API_KEY', 'GITHUB_TOKEN', 'NPM_TOKEN', 'MY_PASSWORD', 'ClientSecret', 'OTHER'])
    assert.doesNotMatch(r.output, new RegExp(`^${name}=`, 'm'));
  assert.ok(!r.output.includes(API_KEY), 'the key never appears in the output');
  assert.match(r.output, /literal \[redacted/); // the masking wording belongs to security/redact
  assert.deepEqual(r.withheldVariables, ['ClientSecret', 'GITHUB_TOKEN', 'MY_PASSWORD', 'NPM_TOKEN', 'OPENAI_API_KEY', 'OTHER']);
});

test('a sleeping command is killed at its time-out, children included', { skip: windows }, async () => {
  const pidFile = path.join(scratch, 'child.pid');
  const started = Date.now();
  const r = await runCommand({ command: `sleep 30 & echo $! > ${pidFile}; wait`, timeout_seconds: 0.5 }, { roots });
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  assert.deepEqual([r.timedOut, r.exitCode, r.signal], [true, null, 'SIGTERM']);
  const child = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(await waitUntil(() => !running(child), 2000), 'the background sleep died with the group');
});

test('a command ignoring SIGTERM is killed with SIGKILL after the grace period', { skip: windows }, async () => {
  const started = Date.now();
  const r = await runCommand({ command: "trap '' TERM; sleep 30", timeout_seconds: 0.3 }, { roots, killGraceMs: 300 });
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual([r.timedOut, r.signal], [true, 'SIGKILL']);
});

test('Stop (an AbortSignal) kills a running command', { skip: windows }, async () => {
  const ac = new AbortController();
  const seen: string[] = [];
  setTimeout(() => ac.abort(), 300);
  const started = Date.now();
  const r = await runCommand(
    { command: 'echo started; sleep 30; echo never' },
    { roots, signal: ac.signal, onOutput: (t) => seen.push(t) },
  );
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual([r.stopped, r.timedOut, r.signal], [true, false, 'SIGTERM']);
  assert.equal(r.output, 'started\n');
  assert.deepEqual(seen, ['started\n']);
});

test('a process left running in the background is killed when the command returns', { skip: windows }, async () => {
  const r = await runCommand({ command: 'sleep 30 > /dev/null 2>&1 & echo $!' }, { roots });
  assert.equal(r.exitCode, 0);
  const pid = Number(r.output.trim());
  assert.ok(pid > 0);
  assert.ok(await waitUntil(() => !running(pid), 2000), 'no orphan is left behind');
});

test('huge output is capped: head and tail kept, the cut said with byte counts', { skip: windows }, async () => {
  const r = await runCommand(
    { command: 'echo FIRST; yes line-of-output | head -n 2000000; echo LAST' },
    { roots, headBytes: 1000, tailBytes: 1000 },
  );
  assert.equal(r.exitCode, 0);
  const total = 6 + 2_000_000 * 15 + 5;
  assert.equal(r.outputBytes, total);
  assert.equal(r.outputTruncated, true);
  assert.ok(r.output.startsWith('FIRST\nline-of-output\n'));
  assert.ok(r.output.endsWith('line-of-output\nLAST\n'));
  assert.match(
    r.output,
    new RegExp(`\\[… ${total - 2000} bytes of output cut here; ${total} bytes in all, the first 1000 and the last 1000 are shown …\\]`),
  );
  assert.ok(r.output.length < 2200);
});

test('a missing shell is a clear failure, not a hang', async () => {
  await refused('spawn-failed', runCommand({ command: 'true' }, { roots, shell: path.join(scratch, 'no-such-shell') }));
});

test('writes the command makes stay where it ran', { skip: windows }, async () => {
  await runCommand({ command: 'echo made > made.txt', cwd: 'src' }, { roots });
  assert.equal(readFileSync(path.join(proj, 'src/made.txt'), 'utf8'), 'made\n');
  writeFileSync(path.join(proj, 'src/in.txt'), 'content');
  assert.equal((await runCommand({ command: 'cat in.txt', cwd: 'proj/src' }, { roots })).output, 'content');
});

test('a command still running when our process exits is killed with it', { skip: windows }, async () => {
  // A child Node process starts a long command through runCommand and exits without waiting.
  const { spawnSync } = await import('node:child_process');
  const script = `
    const { runCommand } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/core/acting/commandRunner.ts'))});
    runCommand({ command: 'sleep 30 & echo $! ; wait' }, { roots: [{ name: 'p', path: ${JSON.stringify(proj)} }], onOutput: (t) => { process.stdout.write(t); process.exit(0); } });
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0, `child printed ${JSON.stringify(r.stdout)} ${r.stderr}`);
  assert.ok(await waitUntil(() => !running(pid), 3000), 'the command died with the process that started it');
});
