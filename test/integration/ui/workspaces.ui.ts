/**
 * Workspaces in the real VS Code with the REAL agent on a scripted model server (issue 6: "multi-root
 * workspaces; a window with no folder still gets an agent"). One dedicated code-server, two windows:
 *   1. a multi-root `.code-workspace` with two folders ("api": a copy of sample-workspace, "web":
 *      test/fixtures/ui/web-client): list_files and archival search name files as `<folder>/path`,
 *      and a citation `web/README.md:3` opens web's README, not api's file of the same name;
 *   2. a window with no folder: the chat works and the model is offered no file functions.
 */
import type { FrameLocator, Page } from 'playwright-core';
import type { UiScenario, WorkbenchUi } from '../../harness/ui';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { activeTabLabel, assertThat, completeReply, ModelSlot, replies, say, until } from './agentChatSupport';

const FILE_FUNCTIONS = ['read_file', 'list_files', 'search_text'];
const FOLDERS = ['api', 'web'];
const LISTED = 'Both folders are here: web/README.md:3 describes the client, api/src/store/todoStore.ts:7-8 holds the store.';
const SEARCHED = 'The client completes todos in web/src/todoClient.ts:17-20.';
const NO_FOLDER_REPLY = 'No folder is open, but I am here and I remember.';

const slot = new ModelSlot();

/** The newest function result the model received. */
function lastToolResult(): string {
  const messages = slot.model.chatRequests().at(-1)?.body.messages ?? [];
  return (
    messages
      .filter((m) => m.role === 'tool')
      .map((m) => String(m.content))
      .at(-1) ?? ''
  );
}

/** Workspace paths in a function result: the lines (or `path:lines` hits) that name a file. */
function pathsIn(result: string): string[] {
  const message = (JSON.parse(result) as { message?: string }).message ?? '';
  return [...message.matchAll(/(?:^|\s)([\w.-]+(?:\/[\w.@-]+)+\.\w+)(?::\d+(?:-\d+)?)?/gm)].map((m) => m[1]!);
}

/** The visible text of the active editor (Monaco renders spaces as no-break spaces). */
async function activeEditorText(page: Page): Promise<string> {
  const text = await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText();
  return text.replace(/\u00a0/g, ' ');
}

async function multiRoot(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  assertThat(
    ui.workspaceFolders.map((f) => f.name).join(',') === FOLDERS.join(','),
    `The window should open api and web: ${JSON.stringify(ui.workspaceFolders)}`,
  );
  await ui.page.locator('.part.sidebar, .activitybar').first().waitFor({ state: 'visible' });

  // list_files: every path starts with a folder name, and both folders are there.
  await say(chat, 'multi: list the files of both folders');
  await completeReply(chat, 0);
  const listing =
    slot.model.chatRequests().flatMap((r) => r.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content)))[0] ?? '';
  const listed = pathsIn(listing);
  assertThat(listed.length >= 5, `list_files should list the files: ${listing.slice(0, 400)}`);
  const outside = listed.filter((p) => !FOLDERS.includes(p.split('/')[0]!));
  assertThat(outside.length === 0, `Every listed path should start with a folder name: ${outside.join(', ')}`);
  assertThat(
    listed.includes('web/src/todoClient.ts') && listed.includes('api/src/store/todoStore.ts'),
    `Both folders should be listed: ${listed.join(', ')}`,
  );
  const names =
    slot.model
      .chatRequests()
      .at(-1)
      ?.body.tools?.map((t) => t.function.name) ?? [];
  for (const f of FILE_FUNCTIONS) assertThat(names.includes(f), `A trusted multi-root window should offer ${f}: ${names.join(', ')}`);

  // Archival search (the startup index of both folders): hits are `<folder>/path:lines` too.
  const hits = await until(
    'archival search to find the web client',
    async () => {
      const n = await replies(chat).count();
      await say(chat, 'multi: search your archive for the todo client');
      await completeReply(chat, n);
      return pathsIn(lastToolResult());
    },
    (paths) => paths.includes('web/src/todoClient.ts'),
  );
  const unrooted = hits.filter((p) => !FOLDERS.includes(p.split('/')[0]!));
  assertThat(unrooted.length === 0, `Every archival hit should start with a folder name: ${unrooted.join(', ')}`);

  // A citation `web/README.md:3` opens web's README (api has a README.md too), at line 3.
  const first = replies(chat).nth(0);
  const webReadme = first.locator('a.citation', { hasText: 'web/README.md:3' });
  await webReadme.click();
  await until(
    'the editor to show README.md',
    () => activeTabLabel(ui.page),
    (t) => t.split(',')[0] === 'README.md',
  );
  const text = await until(
    "web's README in the editor",
    () => activeEditorText(ui.page),
    (t) => t.includes('web-client'),
  );
  assertThat(!text.includes('notes-service\n\nA small HTTP service'), "The citation opened api's README instead of web's.");
  await until(
    'the cursor on line 3',
    () => ui.page.locator('#status\\.editor\\.selection').innerText(),
    (s) => s.startsWith('Ln 3,'),
  );

  // And `api/src/store/todoStore.ts:7-8` opens api's store.
  await first.locator('a.citation', { hasText: 'api/src/store/todoStore.ts:7-8' }).click();
  await until(
    'the editor to show todoStore.ts',
    () => activeTabLabel(ui.page),
    (t) => t.split(',')[0] === 'todoStore.ts',
  );
  await until(
    "api's store in the editor",
    () => activeEditorText(ui.page),
    (t) => t.includes('export class TodoStore'),
  );
  await ui.screenshot('workspaces-multi-root');
}

async function noFolder(ui: WorkbenchUi): Promise<void> {
  await ui.openWindow('no-folder');
  assertThat(ui.workspaceFolders.length === 0 && ui.workspaceFolder === '', 'The second window should have no folder.');
  const chat = await ui.openMemGptView();
  const before = slot.model.chatRequests().length;
  await say(chat, 'nofolder: are you there?');
  assertThat((await completeReply(chat, 0)) === NO_FOLDER_REPLY, 'The agent of a window with no folder should answer.');
  const requests = slot.model.chatRequests().slice(before);
  assertThat(requests.length > 0, 'The no-folder window should have asked the model.');
  for (const r of requests) {
    const names = r.body.tools?.map((t) => t.function.name) ?? [];
    assertThat(
      names.includes('send_message') && names.includes('archival_memory_search'),
      `Memory functions should be offered: ${names.join(', ')}`,
    );
    const offered = names.filter((n) => FILE_FUNCTIONS.includes(n));
    assertThat(offered.length === 0, `A window with no folder offered file functions: ${offered.join(', ')}`);
  }
  await ui.screenshot('workspaces-no-folder');
}

export const scenarios: UiScenario[] = [
  {
    title:
      'workspaces: multi-root paths start with the folder names and citations open the right folder; a window with no folder chats without file functions',
    workspace: {
      folders: [
        { name: 'api', source: 'sample-workspace' },
        { name: 'web', source: 'test/fixtures/ui/web-client' },
      ],
    },
    server: slot.hook([
      { match: 'multi: list the files', steps: [toolCall('list_files', { page: 0, request_heartbeat: true }), sendMessage(LISTED)] },
      {
        match: 'multi: search your archive',
        steps: [
          toolCall('archival_memory_search', { query: 'TodoClient complete fetch todos', page: 0, request_heartbeat: true }),
          sendMessage(SEARCHED),
        ],
      },
      { match: 'nofolder: are you there', steps: [sendMessage(NO_FOLDER_REPLY)] },
    ]),
    async run(ui) {
      const chat = await ui.openMemGptView();
      await multiRoot(ui, chat);
      await noFolder(ui);
    },
  },
];
