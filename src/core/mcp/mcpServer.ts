/**
 * The memory tools as an MCP server (the official SDK's low-level Server, so the tools keep
 * their own JSON schemas). Protocol mistakes by the client (an unknown tool, arguments that do
 * not match the schema) are MCP errors (InvalidParams); a tool that ran and failed, such as
 * remembering while the memory is read-only, is a tool result with isError, which the calling
 * model reads and can act on.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { MEMORY_TOOLS, MemoryToolError, callMemoryTool, type MemoryToolDefinition, type MemoryToolsPort } from './memoryTools';
import { errorMessage } from '../base/errors';

export const MCP_SERVER_NAME = 'memgpt';

export function mcpToolOf(tool: MemoryToolDefinition): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: { ...tool.inputSchema, properties: { ...tool.inputSchema.properties } },
    annotations: {
      title: tool.title,
      readOnlyHint: !tool.writes,
      destructiveHint: false,
      idempotentHint: !tool.writes,
      // Only this workspace's memory: no network, no files beyond the memory's own folder.
      openWorldHint: false,
    },
  };
}

export function createMemoryMcpServer(port: MemoryToolsPort, options: { version: string; folder: string }): Server {
  const server = new Server(
    { name: MCP_SERVER_NAME, title: 'MemGPT memory', version: options.version },
    {
      capabilities: { tools: {} },
      instructions:
        `The MemGPT memory of the workspace ${options.folder}: its indexed code and remembered notes (archival memory), ` +
        "past conversations with its MemGPT agent (recall memory) and the agent's core memory. Search before asking the user what was decided before.",
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: MEMORY_TOOLS.map(mcpToolOf) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    try {
      const result = await callMemoryTool(port, request.params.name, request.params.arguments, { signal: extra.signal });
      return { content: [{ type: 'text', text: result.text }], structuredContent: result.structured };
    } catch (error) {
      if (error instanceof MemoryToolError && (error.code === 'unknown_tool' || error.code === 'invalid_arguments')) {
        throw new McpError(ErrorCode.InvalidParams, error.message, { code: error.code });
      }
      const message = errorMessage(error);
      const code = error instanceof MemoryToolError ? error.code : 'failed';
      return { content: [{ type: 'text', text: message }], structuredContent: { error: { code, message } }, isError: true };
    }
  });
  return server;
}
