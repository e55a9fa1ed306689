import { COMMAND_MAX_CHARS, EDIT_MAX_FILE_BYTES } from '../limits';
import { ActingError } from './actingError';
import type { CommandRequest } from './commandRunner';
import type { EditRequest } from './editEngine';

/**
 * The arguments of the acting functions, checked strictly before anything is proposed to the
 * user. Approval comes only from the user, so an argument such as `approved: true`,
 * `confirm: "yes"` or `skip_approval` is refused outright (and said to be refused for that
 * reason), and so is any argument the function does not declare: an extra field is either a
 * mistake or an attempt, and neither should be acted on. `request_heartbeat` is the one argument
 * every MemGPT function accepts.
 *
 * Lenient only where the intent is unambiguous (small models send "true" for true and "30" for
 * 30), as the other functions' validator is.
 */

export const ACTING_FUNCTIONS = ['edit_file', 'write_file', 'run_command'] as const;
export type ActingFunctionName = (typeof ACTING_FUNCTIONS)[number];

export interface WriteRequest {
  path: string;
  content: string;
}

export type ActingCall =
  | { name: 'edit_file'; args: EditRequest; requestHeartbeat: boolean }
  | { name: 'write_file'; args: WriteRequest; requestHeartbeat: boolean }
  | { name: 'run_command'; args: CommandRequest; requestHeartbeat: boolean };

export type ArgumentErrorCode =
  'unknown-function' | 'not-an-object' | 'self-approval' | 'unknown-argument' | 'missing-argument' | 'wrong-type' | 'too-large';

export class ArgumentError extends ActingError<ArgumentErrorCode> {
  constructor(code: ArgumentErrorCode, message: string) {
    super(code, message);
    this.name = 'ArgumentError';
  }
}

type Kind = 'string' | 'boolean' | 'number';
interface Param {
  kind: Kind;
  required: boolean;
  maxChars?: number;
}

const PARAMS: Record<ActingFunctionName, Record<string, Param>> = {
  edit_file: {
    path: { kind: 'string', required: true, maxChars: 4096 },
    old_string: { kind: 'string', required: true, maxChars: EDIT_MAX_FILE_BYTES },
    new_string: { kind: 'string', required: true, maxChars: EDIT_MAX_FILE_BYTES },
    replace_all: { kind: 'boolean', required: false },
  },
  write_file: {
    path: { kind: 'string', required: true, maxChars: 4096 },
    content: { kind: 'string', required: true, maxChars: EDIT_MAX_FILE_BYTES },
  },
  run_command: {
    command: { kind: 'string', required: true, maxChars: COMMAND_MAX_CHARS },
    cwd: { kind: 'string', required: false, maxChars: 4096 },
    timeout_seconds: { kind: 'number', required: false },
  },
};

/** Names that claim a permission only the user can give. */
const APPROVAL_WORDS =
  /approv|confirm|consent|authori[sz]|permi(t|ssion)|allow|grant|accept|bypass|skip|force|yes|trust|sudo|auto[-_]?(run|apply|exec)/i;

export function isActingFunction(name: string): name is ActingFunctionName {
  return (ACTING_FUNCTIONS as readonly string[]).includes(name);
}

/** Parses one call's arguments, or throws an ArgumentError whose message tells the model what to fix. */
export function parseActingCall(name: string, raw: unknown): ActingCall {
  if (!isActingFunction(name))
    throw new ArgumentError('unknown-function', `${name} is not an acting function (${ACTING_FUNCTIONS.join(', ')}).`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ArgumentError('not-an-object', `The arguments of ${name} must be a JSON object.`);
  const given = raw as Record<string, unknown>;
  const params = PARAMS[name];
  const expected = Object.entries(params)
    .map(([k, p]) => `${k}${p.required ? '' : '?'}: ${p.kind}`)
    .concat('request_heartbeat?: boolean')
    .join(', ');
  const selfApproval = Object.keys(given).filter((k) => !(k in params) && k !== 'request_heartbeat' && APPROVAL_WORDS.test(k));
  if (selfApproval.length > 0) {
    throw new ArgumentError(
      'self-approval',
      `${name} was refused: the argument${selfApproval.length > 1 ? 's' : ''} ${selfApproval.map((k) => `"${k}"`).join(', ')} would grant approval, and only the user can approve an action. Call ${name} again with {${expected}} only; the user will be asked.`,
    );
  }
  const unknown = Object.keys(given).filter((k) => !(k in params) && k !== 'request_heartbeat');
  if (unknown.length > 0) {
    throw new ArgumentError(
      'unknown-argument',
      `${name} does not take ${unknown.map((k) => `"${k}"`).join(', ')}. Expected {${expected}}.`,
    );
  }
  const args: Record<string, string | boolean | number> = {};
  for (const [key, param] of Object.entries(params)) {
    const value = given[key];
    if (value === undefined || value === null) {
      if (param.required) throw new ArgumentError('missing-argument', `${name} needs "${key}" (${param.kind}). Expected {${expected}}.`);
      continue;
    }
    args[key] = coerce(name, key, param, value);
  }
  const rh = given.request_heartbeat;
  const requestHeartbeat = rh === true || rh === 'true';
  if (rh !== undefined && rh !== null && typeof rh !== 'boolean' && rh !== 'true' && rh !== 'false') {
    throw new ArgumentError('wrong-type', `request_heartbeat must be true or false (got ${JSON.stringify(rh)}).`);
  }
  // The checks above guarantee the shapes below.
  switch (name) {
    case 'edit_file':
      return { name, requestHeartbeat, args: args as unknown as EditRequest };
    case 'write_file':
      return { name, requestHeartbeat, args: args as unknown as WriteRequest };
    case 'run_command':
      return { name, requestHeartbeat, args: args as unknown as CommandRequest };
  }
}

function coerce(fn: string, key: string, param: Param, value: unknown): string | boolean | number {
  switch (param.kind) {
    case 'string':
      if (typeof value !== 'string') throw new ArgumentError('wrong-type', `${fn}: "${key}" must be a string (got ${typeof value}).`);
      if (param.maxChars !== undefined && value.length > param.maxChars) {
        throw new ArgumentError('too-large', `${fn}: "${key}" is longer than ${param.maxChars} characters.`);
      }
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new ArgumentError('wrong-type', `${fn}: "${key}" must be true or false (got ${JSON.stringify(value)}).`);
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) throw new ArgumentError('wrong-type', `${fn}: "${key}" must be a number (got ${JSON.stringify(value)}).`);
      return n;
    }
  }
}
