// What a newcomer sees after `npm start`: runs the real script (install check, build, code-server)
// on a free port with a scratch product folder, opens the printed URL in headless Chromium and
// checks that our sample workspace is trusted (no Restricted Mode banner or status item), that no
// empty secondary side bar sits beside the editor, and that MemGPT is there. Saves a screenshot.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { launchChromium } from '../harness/browser';
import { freePort } from '../harness/freePort';
import { stopGroup, trackGroup } from '../harness/processGroups';
import { HARNESS_STOP_GRACE_MS } from '../../src/core/limits';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'artifacts', 'screenshots');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('npm start opens the sample workspace trusted, with MemGPT and no empty secondary side bar', { timeout: 300_000 }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), MEMGPT_PRODUCT_DIR: path.join(scratch, 'product') },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: stopping it stops code-server and its helpers too.
    detached: true,
  });
  trackGroup(child.pid!);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const browser = await launchChromium(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start printed no URL within 240 s:\n${output}`)), 240_000);
      const check = (): void => {
        const m = /Open:\s+(\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`npm start exited:\n${output}`)));
    });
    assert.match(decodeURIComponent(url), /folder=.*sample-workspace$/);
    assert.doesNotMatch(output, /Restricted Mode\?/, 'no advice to leave Restricted Mode for our own sample');

    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    await page.goto(url);
    // The MemGPT status item appears once the extension host has activated us.
    await page.locator('.statusbar-item[id$="memgpt.status"]').first().waitFor({ state: 'visible', timeout: 120_000 });
    await page.locator('.monaco-workbench .part.sidebar').waitFor({ state: 'visible' });
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'npm-start.png') });
    assert.equal(await page.locator('.statusbar-item[id="status.workspaceTrust"]').count(), 0, 'the Restricted Mode status item');
    assert.equal(await page.locator('.monaco-workbench .banner', { hasText: 'Restricted Mode' }).count(), 0, 'the Restricted Mode banner');
    assert.equal(await page.locator('.monaco-workbench .part.auxiliarybar').isVisible(), false, 'the secondary side bar is closed');
  } finally {
    await browser.close();
    await stopGroup(child.pid!, HARNESS_STOP_GRACE_MS);
    await exited;
  }
});
