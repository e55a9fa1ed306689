import { runtimeConfigFrom } from '../../../src/cli/config';
import { chatProvider, modelConfigured } from '../../../src/core/runtime/runtimeConfig';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import manifest from '../../../package.json';
import { COMMANDS } from '../../../src/vscode/commandIds';
import { changedSections, parseSettings, SETTING_KEYS, type SettingKey } from '../../../src/vscode/settings';
import { DEFAULT_MEMORY_PRESSURE_FRACTION, INDEX_MAX_FILE_BYTES } from '../../../src/core/limits';

const from = (values: Partial<Record<SettingKey, unknown>>) => (key: SettingKey) => values[key];

describe('parseSettings', () => {
  it('gives the documented defaults for an empty configuration', () => {
    const { settings, problems } = parseSettings(from({}));
    assert.deepEqual(problems, []);
    assert.equal(settings.model, '');
    assert.equal(settings.baseUrl, '');
    assert.equal(settings.fileEvents.mode, 'queue');
    assert.equal(settings.memory.pressureThreshold, DEFAULT_MEMORY_PRESSURE_FRACTION);
    assert.equal(settings.index.maxFileBytes, INDEX_MAX_FILE_BYTES);
    assert.equal(settings.index.onStartup, true);
    assert.equal(settings.embeddings.baseUrl, '', 'local embedder by default');
  });

  it('falls back to OPENAI_BASE_URL and MEMGPT_MODEL / OPENAI_MODEL only when the settings are empty', () => {
    const env = { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', MEMGPT_MODEL: 'm1', OPENAI_MODEL: 'm2' };
    assert.equal(parseSettings(from({}), env).settings.baseUrl, 'http://127.0.0.1:9/v1');
    assert.equal(parseSettings(from({}), env).settings.model, 'm1');
    assert.equal(parseSettings(from({}), { OPENAI_MODEL: 'm2' }).settings.model, 'm2');
    const set = parseSettings(from({ baseUrl: 'http://h/v1', model: 'mine' }), env).settings;
    assert.equal(set.baseUrl, 'http://h/v1');
    assert.equal(set.model, 'mine');
  });

  it('rejects bad values with a clear problem and keeps the default', () => {
    const { settings, problems } = parseSettings(
      from({
        contextWindow: 100,
        temperature: 'hot',
        'fileEvents.mode': 'always',
        'index.exclude': 'dist',
        'memory.pressureThreshold': 2,
        baseUrl: 'localhost:11434',
      }),
    );
    assert.equal(settings.contextWindow, 0);
    assert.equal(settings.temperature, 0.2);
    assert.equal(settings.fileEvents.mode, 'queue');
    assert.deepEqual(settings.index.exclude, []);
    assert.equal(settings.memory.pressureThreshold, DEFAULT_MEMORY_PRESSURE_FRACTION);
    assert.equal(problems.length, 6);
    assert.ok(problems.some((p) => p.includes('memgpt.fileEvents.mode') && p.includes('"off", "queue" or "wake"')));
    assert.ok(problems.some((p) => p.includes('memgpt.baseUrl') && p.includes('not an http(s) URL')));
  });

  it('converts units: idle delay seconds → ms, max file size kB → bytes', () => {
    const { settings } = parseSettings(from({ 'fileEvents.idleDelaySeconds': 12, 'index.maxFileSizeKB': 2.5, 'fileEvents.mode': 'wake' }));
    assert.equal(settings.fileEvents.idleDelayMs, 12_000);
    assert.equal(settings.index.maxFileBytes, 2500);
    assert.equal(settings.fileEvents.mode, 'wake');
  });

  it('reports which sections changed', () => {
    const a = parseSettings(from({})).settings;
    const b = parseSettings(from({ 'fileEvents.mode': 'off', model: 'x' })).settings;
    assert.deepEqual(changedSections(a, b).sort(), ['fileEvents', 'model']);
    assert.deepEqual(changedSections(a, a), []);
  });
});

const contributes = manifest.contributes;

describe('package.json contributes', () => {
  it('declares every setting the code reads, keeps the four original names, and nothing else', () => {
    const declared = Object.keys(contributes.configuration.properties).sort();
    assert.deepEqual(declared, SETTING_KEYS.map((k) => `memgpt.${k}`).sort());
    for (const k of ['memgpt.model', 'memgpt.baseUrl', 'memgpt.contextWindow', 'memgpt.temperature']) assert.ok(declared.includes(k), k);
    for (const [key, p] of Object.entries(contributes.configuration.properties)) {
      const text =
        (p as { markdownDescription?: string; description?: string }).markdownDescription ??
        (p as { description?: string }).description ??
        '';
      assert.ok(text.length > 30, `${key} has a real description`);
    }
    assert.ok(!declared.some((k) => /key|secret|token/i.test(k)), 'no setting holds a secret');
  });

  it('declares every command the extension registers, in category MemGPT', () => {
    const ids: string[] = contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(ids, Object.values(COMMANDS).sort());
    for (const c of contributes.commands) assert.equal(c.category, 'MemGPT');
    const menuIds = [...contributes.menus['editor/context'], ...contributes.menus['view/title']].map((m) => m.command);
    for (const id of menuIds) assert.ok(new Set<string>(ids).has(id), `menu names unknown command ${id}`);
    const context = contributes.menus['editor/context'];
    assert.deepEqual(context.map((m) => m.command).sort(), [COMMANDS.askAboutSelection, COMMANDS.rememberSelection].sort());
    for (const m of context) assert.match(m.when, /editorHasSelection/);
  });
});

describe('memgpt.provider "vscode-lm"', () => {
  it('is accepted by the editor settings, needs no key, and is refused by the command line (which has no editor models)', () => {
    const { settings, problems } = parseSettings(from({ provider: 'vscode-lm', model: 'gpt-4.1' }));
    assert.deepEqual(problems, []);
    assert.equal(settings.provider, 'vscode-lm');
    assert.equal(settings.model, 'gpt-4.1');
    assert.equal(chatProvider({ provider: 'vscode-lm', baseUrl: 'https://api.anthropic.com' }), 'vscode-lm');
    assert.equal(modelConfigured('', false, 'vscode-lm'), true);
    assert.equal(modelConfigured('', false, 'openai'), false);
    assert.throws(() => runtimeConfigFrom({ provider: 'vscode-lm' }, {}), /--provider "vscode-lm" is not known: give openai or anthropic/);
  });
});
