/**
 * MCP tools as functions the model can call: a name every model API accepts
 * (`mcp__<server>__<tool>`, letters, digits, _ and -, at most 64 characters, unique), the tool's
 * description and input schema carried over (cleaned to what function schemas hold, plus MemGPT's
 * `request_heartbeat`), the arguments checked against the tool's own schema before the user is
 * asked, and the tool's result turned into the text the model reads.
 */
import { createHash } from 'node:crypto';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { JsonSchema, ToolSchema } from '../interfaces/chatModel';
import { FUNCTION_NAME_MAX_CHARS, MCP_DESCRIPTION_MAX_CHARS, MCP_RESULT_MAX_CHARS, MCP_SCHEMA_MAX_CHARS } from '../limits';

export const MCP_FUNCTION_PREFIX = 'mcp__';

/** True for a name this module could have made: the agent routes such calls here even when the tool is gone. */
export function isMcpFunctionName(name: string): boolean {
  return name.startsWith(MCP_FUNCTION_PREFIX);
}

function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * The function name of one tool: `mcp__<server>__<tool>`, made of the characters model APIs accept.
 * Too long, or taken by another tool once cleaned: shortened and made unique with a hash of the
 * real names, so the same tool keeps the same name from one session to the next.
 */
export function functionNameFor(server: string, tool: string, taken: ReadonlySet<string>): string {
  const plain = `${MCP_FUNCTION_PREFIX}${clean(server)}__${clean(tool)}`;
  if (plain.length <= FUNCTION_NAME_MAX_CHARS && !taken.has(plain)) return plain;
  const suffix = `_${shortHash(`${server}\u0000${tool}`)}`;
  const room = FUNCTION_NAME_MAX_CHARS - MCP_FUNCTION_PREFIX.length - 2 - suffix.length;
  const serverPart = clean(server).slice(0, Math.max(4, Math.floor(room / 3)));
  const toolPart = clean(tool).slice(0, room - serverPart.length);
  let name = `${MCP_FUNCTION_PREFIX}${serverPart}__${toolPart}${suffix}`;
  for (let i = 2; taken.has(name); i++) name = `${name.slice(0, FUNCTION_NAME_MAX_CHARS - String(i).length - 1)}_${i}`;
  return name;
}

const HEARTBEAT_SCHEMA: JsonSchema = {
  type: 'boolean',
  description:
    'true to be called again right after this function returns (to read the result and continue); false or omitted ends your turn.',
};

export type McpToolSchemaResult = { ok: true; schema: ToolSchema } | { ok: false; reason: string };

/** The function schema of one MCP tool, or why it cannot be offered. */
export function functionSchemaFor(functionName: string, serverName: string, tool: Tool): McpToolSchemaResult {
  const input = tool.inputSchema as unknown;
  if (!isRecord(input) || (input.type !== undefined && input.type !== 'object'))
    return { ok: false, reason: 'its input schema is not an object schema' };
  const properties: Record<string, JsonSchema> = {};
  const rawProps = isRecord(input.properties) ? input.properties : {};
  for (const [key, value] of Object.entries(rawProps)) properties[key] = cleanSchema(value, 0);
  if ('request_heartbeat' in properties) return { ok: false, reason: 'it has an argument named request_heartbeat, which MemGPT reserves' };
  properties.request_heartbeat = HEARTBEAT_SCHEMA;
  const required = Array.isArray(input.required) ? input.required.filter((r): r is string => typeof r === 'string' && r in properties) : [];
  const title = tool.title ?? tool.annotations?.title;
  const text = [
    title && title !== tool.name ? `${title}.` : '',
    tool.description ?? '',
    `(Tool "${tool.name}" of the MCP server "${serverName}"; the user approves each call.)`,
  ]
    .filter((t) => t.trim() !== '')
    .join(' ');
  const schema: ToolSchema = {
    type: 'function',
    function: {
      name: functionName,
      description: text.length > MCP_DESCRIPTION_MAX_CHARS ? `${text.slice(0, MCP_DESCRIPTION_MAX_CHARS - 1)}…` : text,
      parameters: {
        type: 'object',
        properties,
        required,
        ...(input.additionalProperties === false ? { additionalProperties: false } : {}),
      },
    },
  };
  const size = JSON.stringify(schema.function.parameters).length;
  if (size > MCP_SCHEMA_MAX_CHARS)
    return { ok: false, reason: `its input schema is ${size} characters, over the ${MCP_SCHEMA_MAX_CHARS} a function may take` };
  return { ok: true, schema };
}

const MAX_DEPTH = 8;
const TYPES = new Set(['string', 'integer', 'number', 'boolean', 'object', 'array']);

/** Keeps the keywords function schemas carry; a type list such as ["string", "null"] becomes its first real type. */
function cleanSchema(value: unknown, depth: number): JsonSchema {
  if (!isRecord(value) || depth > MAX_DEPTH) return {};
  const out: JsonSchema = {};
  const type = Array.isArray(value.type) ? value.type.find((t) => t !== 'null') : value.type;
  if (typeof type === 'string' && TYPES.has(type)) out.type = type as NonNullable<JsonSchema['type']>;
  if (typeof value.description === 'string') out.description = value.description.slice(0, MCP_DESCRIPTION_MAX_CHARS);
  if (Array.isArray(value.enum)) {
    const values = value.enum.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
    if (values.length > 0) out.enum = values;
  }
  if (value.const !== undefined && (typeof value.const === 'string' || typeof value.const === 'number')) out.enum = [value.const];
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const) {
    if (typeof value[key] === 'number') out[key] = value[key] as number;
  }
  for (const key of ['format', 'pattern'] as const) if (typeof value[key] === 'string') out[key] = value[key] as string;
  const def = value.default;
  if (def === null || typeof def === 'string' || typeof def === 'number' || typeof def === 'boolean') out.default = def;
  if (isRecord(value.items)) out.items = cleanSchema(value.items, depth + 1);
  if (isRecord(value.properties)) {
    out.properties = {};
    for (const [k, v] of Object.entries(value.properties)) out.properties[k] = cleanSchema(v, depth + 1);
    if (Array.isArray(value.required)) out.required = value.required.filter((r): r is string => typeof r === 'string');
  }
  if (value.additionalProperties === false) out.additionalProperties = false;
  const union = Array.isArray(value.anyOf) ? value.anyOf : Array.isArray(value.oneOf) ? value.oneOf : undefined;
  if (union) {
    const options = union.filter((u) => !(isRecord(u) && u.type === 'null')).map((u) => cleanSchema(u, depth + 1));
    if (options.length === 1 && !out.type) Object.assign(out, options[0]);
    else if (options.length > 0) out.anyOf = options;
  }
  return out;
}

export type ArgumentCheck = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

// Made at the first check: building it loads the schema validator, which a process that never
// calls an MCP tool (a search, the extension's start) should not pay for.
let validators: AjvJsonSchemaValidator | undefined;

/**
 * The arguments a tool gets: `request_heartbeat` taken out (it is ours), obvious slips of small
 * models fixed where the schema leaves no doubt ("3" for an integer, "true" for a boolean), then
 * checked against the tool's own input schema, so the user is never asked to approve a call the
 * server would refuse.
 */
export function checkToolArguments(functionName: string, tool: Tool, raw: Record<string, unknown>): ArgumentCheck {
  const args: Record<string, unknown> = {};
  const props = isRecord(tool.inputSchema.properties) ? tool.inputSchema.properties : {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'request_heartbeat') continue;
    if (value === null && !(Array.isArray(tool.inputSchema.required) && tool.inputSchema.required.includes(key))) continue;
    args[key] = coerce(props[key], value);
  }
  let validate;
  try {
    validators ??= new AjvJsonSchemaValidator();
    validate = validators.getValidator<Record<string, unknown>>(tool.inputSchema as Parameters<AjvJsonSchemaValidator['getValidator']>[0]);
  } catch {
    // A schema the validator cannot compile: the server checks the arguments itself.
    return { ok: true, args };
  }
  const result = validate(args);
  if (result.valid) return { ok: true, args };
  const expected = Object.keys(props)
    .map((k) => `${k}${Array.isArray(tool.inputSchema.required) && tool.inputSchema.required.includes(k) ? '' : '?'}`)
    .join(', ');
  return {
    ok: false,
    error: `Invalid arguments for ${functionName}: ${result.errorMessage}. Expected {${expected}}; see the function's schema.`,
  };
}

function coerce(schema: unknown, value: unknown): unknown {
  if (!isRecord(schema) || typeof value !== 'string') return value;
  const text = value.trim();
  switch (schema.type) {
    case 'integer':
      return /^[+-]?\d+$/.test(text) ? Number(text) : value;
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : value;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : value;
    default:
      return value;
  }
}

/**
 * What the model reads of a tool result: the text parts as they are; images, audio and binary
 * resources named with their size (the model cannot see them here); structured content as JSON
 * when the tool gave no text. Cut at MCP_RESULT_MAX_CHARS; the per-result budget cuts further.
 */
export function toolResultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    switch (item.type) {
      case 'text':
        parts.push(item.text);
        break;
      case 'image':
      case 'audio':
        parts.push(`[${item.type} ${item.mimeType}, ${Math.floor((item.data.length * 3) / 4)} bytes: not shown]`);
        break;
      case 'resource_link':
        parts.push(`[resource ${item.uri}${item.name ? ` (${item.name})` : ''}${item.description ? `: ${item.description}` : ''}]`);
        break;
      case 'resource': {
        const r = item.resource;
        if ('text' in r && typeof r.text === 'string') parts.push(`[resource ${r.uri}]\n${r.text}`);
        else parts.push(`[resource ${r.uri}${r.mimeType ? `, ${r.mimeType}` : ''}: binary, not shown]`);
        break;
      }
      default:
        break;
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent, null, 2));
  const text = parts.join('\n').trim();
  if (text === '') return result.isError ? 'The tool failed and gave no reason.' : 'The tool returned nothing.';
  return text.length > MCP_RESULT_MAX_CHARS
    ? `${text.slice(0, MCP_RESULT_MAX_CHARS)}\n[… ${text.length - MCP_RESULT_MAX_CHARS} more characters not read]`
    : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
