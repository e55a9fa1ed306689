/**
 * An MCP server's tool used by the agent in the REAL workbench, on a scripted model: a stdio
 * server set in memgpt.mcpServers (written with the SDK's server side) starts with the window;
 * the model calls its tool; the chat's card names the server, the tool and the arguments and waits;
 * Accept runs it and the model reads the result; Reject with a reason does not run it and the model
 * reads the reason. One dedicated code-server.
 */
import path from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import type { ServerNeeds, UiScenario, WorkbenchUi } from '../../harness/ui';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { assertThat, completeReply, composerReady, ModelSlot, replies, say } from './agentChatSupport';

const REPO = path.resolve(__dirname, '../../..');
const REASON = 'no shouting today';
const SERVER_SCRIPT = `
const { Server } = require('@modelcontextprotocol/sdk/server/index.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { ListToolsRequestSchema, CallToolRequestSchema } = require('@modelcontextprotocol/sdk/types.js');
const server = new Server({ name: 'ui-test', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'shout', description: 'Upper-cases text.', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }] }));
server.setRequestHandler(CallToolRequestSchema, (r) => ({ content: [{ type: 'text', text: String(r.params.arguments.text).toUpperCase() + '!' }] }));
server.connect(new StdioServerTransport());
`;

const slot = new ModelSlot();

function lastToolResult(): string {
  const messages = slot.model.chatRequests().at(-1)?.body.messages ?? [];
  return (
    messages
      .filter((m) => m.role === 'tool')
      .map((m) => String(m.content))
      .at(-1) ?? ''
  );
}

function card(chat: FrameLocator): Locator {
  return chat.locator('.card[data-function="mcp__loud__shout"]').last();
}

async function accept(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  await composerReady(chat);
  const n = await replies(chat).count();
  await say(chat, 'mcp: shout hello');
  const approval = card(chat).locator('.approval');
  await approval.waitFor({ state: 'visible' });
  const title = await approval.locator('.approval-title').innerText();
  assertThat(title === 'Call tool "shout" of MCP server "loud"?', `The card should name the tool and its server: ${title}`);
  const args = await approval.locator('.approval-command').innerText();
  assertThat(args.includes('"text": "hello quietly"'), `The card should show the arguments: ${args}`);
  await ui.screenshot('mcp-tool-approval');
  await approval.locator('.approval-button.accept').click();
  assertThat((await completeReply(chat, n)) === 'It shouted.', 'The agent should answer after the tool ran.');
  const result = lastToolResult();
  assertThat(
    result.includes('HELLO QUIETLY!') && result.includes('approved by the user'),
    `The model should read the tool's result: ${result.slice(0, 300)}`,
  );
}

async function reject(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  await composerReady(chat);
  const n = await replies(chat).count();
  await say(chat, 'mcp: shout again');
  const approval = card(chat).locator('.approval');
  await approval.waitFor({ state: 'visible' });
  await approval.locator('.approval-reason').fill(REASON);
  await approval.locator('.approval-button.reject').click();
  assertThat((await completeReply(chat, n)) === 'All right, quietly then.', 'The agent should answer the decline.');
  const result = lastToolResult();
  assertThat(
    result.includes(`the user declined: ${REASON}`) && !result.includes('AGAIN'),
    `The model should read the decline, and the tool must not run: ${result.slice(0, 300)}`,
  );
  await card(chat).and(chat.locator('.card.status-Failed')).waitFor({ state: 'visible' });
  await ui.screenshot('mcp-tool-rejected');
}

function withMcpServer(): () => Promise<ServerNeeds> {
  const start = slot.hook([
    {
      match: 'mcp: shout hello',
      steps: [toolCall('mcp__loud__shout', { text: 'hello quietly', request_heartbeat: true }), sendMessage('It shouted.')],
    },
    {
      match: 'mcp: shout again',
      steps: [toolCall('mcp__loud__shout', { text: 'again', request_heartbeat: true }), sendMessage('All right, quietly then.')],
    },
  ]);
  return async () => {
    const needs = await start();
    const servers = { servers: { loud: { type: 'stdio', command: process.execPath, args: ['-e', SERVER_SCRIPT], cwd: REPO } } };
    return { ...needs, settings: { ...needs.settings, 'memgpt.mcpServers': servers } };
  };
}

export const scenarios: UiScenario[] = [
  {
    title:
      'MCP tools: the chat card names the server, tool and arguments; Accept runs the tool and the model reads it; Reject with a reason does not run it',
    server: withMcpServer(),
    async run(ui) {
      const chat = await ui.openMemGptView();
      await accept(ui, chat);
      await reject(ui, chat);
    },
  },
];
