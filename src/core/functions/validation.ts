import type { JsonSchema, ToolSchema } from '../interfaces/chatModel';

/**
 * Checks parsed tool arguments against the function's JSON schema before the
 * function runs. Lenient only where the intent is unambiguous, because small
 * models make these slips all the time: "3" for 3, "true" for true, a number
 * for a string, null for an omitted optional argument, a forgotten
 * `request_heartbeat` (read as false). Everything else is a failure whose text
 * tells the model exactly which argument is wrong and what is expected.
 */

export type ValidatedArguments = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

/** Accepted on every function even when its schema lacks it: models add it out of habit. */
const ALWAYS_ACCEPTED = 'request_heartbeat';

export function validateArguments(schema: ToolSchema, raw: Record<string, unknown>): ValidatedArguments {
  const { name, parameters } = schema.function;
  const props = parameters.properties;
  const args: Record<string, unknown> = {};
  const problems: string[] = [];

  for (const key of Object.keys(raw)) {
    if (!(key in props) && key !== ALWAYS_ACCEPTED) {
      problems.push(`unknown argument "${key}"`);
    }
  }
  for (const [key, prop] of Object.entries(props)) {
    const value = raw[key];
    if (value === undefined || value === null) {
      if (key === ALWAYS_ACCEPTED) args[key] = false;
      else if (parameters.required.includes(key)) problems.push(`missing required argument "${key}" (${describe(prop)})`);
      continue;
    }
    const checked = checkValue(key, prop, value);
    if (checked.ok) args[key] = checked.value;
    else problems.push(checked.error);
  }
  if (!(ALWAYS_ACCEPTED in args)) {
    const rh = raw[ALWAYS_ACCEPTED];
    args[ALWAYS_ACCEPTED] = rh === true || rh === 'true';
  }
  if (problems.length > 0) {
    const expected = Object.entries(props)
      .map(([k, p]) => `${k}${parameters.required.includes(k) ? '' : '?'}: ${describe(p)}`)
      .join(', ');
    return { ok: false, error: `Invalid arguments for ${name}: ${problems.join('; ')}. Expected {${expected}}.` };
  }
  return { ok: true, args };
}

function describe(schema: JsonSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  let text = schema.type ?? 'any';
  if (schema.minimum !== undefined && schema.maximum !== undefined) text += ` ${schema.minimum}..${schema.maximum}`;
  else if (schema.minimum !== undefined) text += ` >= ${schema.minimum}`;
  else if (schema.maximum !== undefined) text += ` <= ${schema.maximum}`;
  return text;
}

type Checked = { ok: true; value: unknown } | { ok: false; error: string };

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function checkValue(key: string, schema: JsonSchema, value: unknown): Checked {
  const bad = (why: string): Checked => ({ ok: false, error: `"${key}" ${why}` });
  let v = value;
  switch (schema.type) {
    case 'string':
      if (typeof v === 'number' || typeof v === 'boolean') v = String(v);
      if (typeof v !== 'string') return bad(`must be a string, got ${kindOf(value)}`);
      break;
    case 'integer':
      if (typeof v === 'string' && INTEGER_TEXT.test(v.trim())) v = Number(v.trim());
      if (typeof v === 'number' && Number.isFinite(v) && Number.isInteger(v)) break;
      return bad(`must be a whole number, got ${preview(value)}`);
    case 'number':
      if (typeof v === 'string' && NUMBER_TEXT.test(v.trim())) v = Number(v.trim());
      if (typeof v === 'number' && Number.isFinite(v)) break;
      return bad(`must be a number, got ${preview(value)}`);
    case 'boolean':
      if (v === 'true' || v === 'false') v = v === 'true';
      if (typeof v !== 'boolean') return bad(`must be true or false, got ${preview(value)}`);
      break;
    case 'array':
      if (!Array.isArray(v)) return bad(`must be an array, got ${kindOf(value)}`);
      break;
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(`must be an object, got ${kindOf(value)}`);
      break;
    default:
      break;
  }
  if (schema.enum && !schema.enum.includes(v as string | number)) {
    return bad(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${preview(value)}`);
  }
  if (typeof v === 'number') {
    if (schema.minimum !== undefined && v < schema.minimum) return bad(`must be at least ${schema.minimum}, got ${v}`);
    if (schema.maximum !== undefined && v > schema.maximum) return bad(`must be at most ${schema.maximum}, got ${v}`);
  }
  return { ok: true, value: v };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
