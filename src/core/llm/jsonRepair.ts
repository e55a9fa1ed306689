/**
 * Parses the `arguments` string of a tool call. Small local models often emit
 * almost-JSON; what can be repaired without guessing at meaning is repaired and
 * each repair is named (so the agent can log it or tell the model), everything
 * else becomes an error text the model can act on when it is sent back as a
 * failed function result.
 *
 * Repaired: code fences, text before the object, trailing text or a second
 * object after it, raw control characters inside strings, trailing commas,
 * Python literals (True/False/None), unquoted keys, single quotes when the text
 * has no double quote at all, a call cut off mid-way (open string, dangling
 * key, partial literal, unclosed braces/brackets), JSON double-encoded as a
 * string. Not repaired: anything that needs a guess about where a value ends.
 */
import { FUNCTION_ARGUMENTS_MAX_CHARS } from '../limits';

export type ToolArgumentsParse = { ok: true; value: Record<string, unknown>; repairs: string[] } | { ok: false; error: string };

const HINT = 'send the arguments as a single JSON object, e.g. {"message": "Hello"}';

export function parseToolArguments(raw: string): ToolArgumentsParse {
  if (raw.length > FUNCTION_ARGUMENTS_MAX_CHARS) {
    return {
      ok: false,
      error: `arguments are too long (${raw.length} characters, limit ${FUNCTION_ARGUMENTS_MAX_CHARS}); send shorter arguments, e.g. split the content over several calls`,
    };
  }
  const text = raw.trim();
  if (text.length === 0) return { ok: true, value: {}, repairs: ['empty arguments read as {}'] };

  const direct = tryParse(text);
  if (direct.ok) return fromParsedValue(direct.value, []);

  const repairs: string[] = [];
  const repaired = repairText(text, repairs);
  if (repaired !== null) {
    const second = tryParse(repaired);
    if (second.ok) return fromParsedValue(second.value, repairs);
  }
  return { ok: false, error: `arguments are not valid JSON: ${describeSyntaxError(direct.error, text)}; ${HINT}` };
}

function fromParsedValue(value: unknown, repairs: string[]): ToolArgumentsParse {
  if (isPlainObject(value)) return { ok: true, value, repairs };
  if (typeof value === 'string') {
    // Some servers double-encode: the arguments are a JSON string holding the object.
    const inner = tryParse(value.trim());
    if (inner.ok && isPlainObject(inner.value)) {
      return { ok: true, value: inner.value, repairs: [...repairs, 'arguments were a JSON string holding the object; decoded it'] };
    }
  }
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  return { ok: false, error: `arguments must be a JSON object, got ${got}; ${HINT}` };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: Error } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
}

/** Node's messages differ by version and some lack a position; always say where. */
function describeSyntaxError(err: Error, text: string): string {
  const message = err.message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/, .* is not valid JSON$/s, '');
  if (/position \d+/.test(message)) return message;
  const position = firstErrorPosition(text);
  if (position >= text.length) return `unexpected end of input at position ${text.length}`;
  return `${message} at position ${position}`;
}

/**
 * Index of the first character a strict JSON reader rejects (text.length when
 * the input ends too early). Only used to point the model at its mistake.
 */
function firstErrorPosition(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (ch === '"') {
      string();
    } else if (ch !== undefined && /[-0-9]/.test(ch)) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) fail();
      i += m![0].length;
    } else {
      for (const literal of ['true', 'false', 'null']) {
        if (text.startsWith(literal, i)) {
          i += literal.length;
          return;
        }
      }
      fail();
    }
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') return void i++;
      if (ch.charCodeAt(0) < 0x20) fail();
      i += ch === '\\' ? 2 : 1;
    }
    fail();
  };
  try {
    value();
    ws();
    return i;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : 0;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function abbreviate(s: string, max = 40): string {
  const one = s.replace(/\s+/g, ' ');
  return JSON.stringify(one.length > max ? `${one.slice(0, max)}…` : one);
}

const CODE_FENCE = /^```[\w-]*[ \t]*\r?\n?([\s\S]*?)\s*(?:```\s*)?$/;
const PYTHON_LITERALS: Record<string, string> = { True: 'true', False: 'false', None: 'null' };
const JSON_LITERALS = ['true', 'false', 'null'];

/** Returns repaired JSON text (not yet parsed) or null when nothing safe can be done. */
function repairText(input: string, repairs: string[]): string | null {
  let text = input;
  const fence = CODE_FENCE.exec(text);
  if (text.startsWith('```') && fence) {
    text = (fence[1] ?? '').trim();
    repairs.push('removed a Markdown code fence around the arguments');
  }
  const start = text.indexOf('{');
  if (start < 0) return null;
  if (start > 0) repairs.push(`ignored text before the object: ${abbreviate(text.slice(0, start))}`);

  const body = text.slice(start);
  const singleQuotes = !body.includes('"') && body.includes("'");
  if (singleQuotes) repairs.push('read single-quoted strings as double-quoted');

  const scan = scanObject(body, singleQuotes);
  if (scan.controlChars) repairs.push('escaped raw newlines/tabs inside strings');
  if (scan.trailingCommas) repairs.push('removed trailing commas');
  if (scan.pythonLiterals) repairs.push('replaced Python literals (True/False/None) with JSON ones');
  if (scan.unquotedKeys) repairs.push('quoted unquoted keys');

  let out = scan.out;
  if (scan.stack.length > 0 || scan.inString) {
    const closed = closeTruncated(out, scan.stack, scan.inString, scan.escape);
    out = closed.text;
    repairs.push(`the arguments were cut off; ${closed.description}`);
  } else if (scan.end < body.length) {
    const rest = body.slice(scan.end).trim();
    if (rest.length > 0) {
      repairs.push(
        rest.startsWith('{')
          ? 'found two JSON objects back to back; used the first and ignored the rest'
          : `ignored trailing text after the object: ${abbreviate(rest)}`,
      );
    }
  }
  return out;
}

interface Scan {
  out: string;
  /** Index in the input just past the first complete top-level object. */
  end: number;
  stack: ('{' | '[')[];
  inString: boolean;
  escape: boolean;
  controlChars: boolean;
  trailingCommas: boolean;
  pythonLiterals: boolean;
  unquotedKeys: boolean;
}

/** One pass that normalises the first top-level object and stops after it. */
function scanObject(body: string, singleQuotes: boolean): Scan {
  const s: Scan = {
    out: '',
    end: body.length,
    stack: [],
    inString: false,
    escape: false,
    controlChars: false,
    trailingCommas: false,
    pythonLiterals: false,
    unquotedKeys: false,
  };
  let quote = '"';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (s.inString) {
      if (s.escape) {
        s.escape = false;
        // JSON has no \' escape; in single-quoted input it only means a quote.
        if (ch === "'" && singleQuotes) s.out = `${s.out.slice(0, -1)}'`;
        else s.out += ch;
        continue;
      }
      if (ch === '\\') {
        s.escape = true;
        s.out += ch;
      } else if (ch === quote) {
        s.inString = false;
        s.out += '"';
      } else if (ch === '\n') {
        s.out += '\\n';
        s.controlChars = true;
      } else if (ch === '\r') {
        s.out += '\\r';
        s.controlChars = true;
      } else if (ch === '\t') {
        s.out += '\\t';
        s.controlChars = true;
      } else if (ch.charCodeAt(0) < 0x20) {
        s.out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
        s.controlChars = true;
      } else {
        s.out += ch;
      }
      continue;
    }
    if (ch === '"' || (singleQuotes && ch === "'")) {
      s.inString = true;
      quote = ch;
      s.out += '"';
    } else if (ch === '{' || ch === '[') {
      s.stack.push(ch);
      s.out += ch;
    } else if (ch === '}' || ch === ']') {
      const trimmed = s.out.trimEnd();
      if (trimmed.endsWith(',')) {
        s.out = trimmed.slice(0, -1);
        s.trailingCommas = true;
      }
      s.stack.pop();
      s.out += ch;
      if (s.stack.length === 0) {
        s.end = i + 1;
        break;
      }
    } else if (/[A-Za-z_$]/.test(ch)) {
      let j = i;
      while (j < body.length && /[\w$]/.test(body[j]!)) j++;
      const word = body.slice(i, j);
      const python = PYTHON_LITERALS[word];
      const nextNonSpace = body.slice(j).match(/^\s*(.)/)?.[1];
      if (s.stack.at(-1) === '{' && nextNonSpace === ':' && /[{,]\s*$/.test(s.out)) {
        s.out += JSON.stringify(word);
        s.unquotedKeys = true;
      } else if (python !== undefined) {
        s.out += python;
        s.pythonLiterals = true;
      } else {
        s.out += word;
      }
      i = j - 1;
    } else {
      s.out += ch;
    }
  }
  return s;
}

/** Closes a cut-off object: the open string, a dangling key or partial literal, then every open brace/bracket. */
function closeTruncated(text: string, stack: ('{' | '[')[], inString: boolean, escape: boolean): { text: string; description: string } {
  const closedParts: string[] = [];
  let out = text;
  if (inString) {
    if (escape) out = out.slice(0, -1);
    out = out.replace(/\\u[0-9a-fA-F]{0,3}$/, '');
    out += '"';
    closedParts.push('closed the open string');
  }
  for (;;) {
    const before = out;
    out = out.trimEnd();
    if (out.endsWith(',')) out = out.slice(0, -1);
    if (out.endsWith(':')) {
      // A key with no value: drop the key.
      out = out.replace(/,?\s*"(?:[^"\\]|\\.)*"\s*:$/, '');
      closedParts.push('dropped a key with no value');
    } else if (stack.at(-1) === '{' && /[{,]\s*"(?:[^"\\]|\\.)*"$/.test(out)) {
      out = out.replace(/,?\s*"(?:[^"\\]|\\.)*"$/, '');
      closedParts.push('dropped a key with no value');
    } else {
      const partial = /[:[,]\s*([a-z]+)$/.exec(out);
      const word = partial?.[1];
      if (word !== undefined && !JSON_LITERALS.includes(word)) {
        const literal = JSON_LITERALS.find((l) => l.startsWith(word));
        if (literal) {
          out = out.slice(0, out.length - word.length) + literal;
          closedParts.push(`completed ${JSON.stringify(word)} to ${literal}`);
        }
      }
    }
    if (out === before) break;
  }
  const closers = [...stack].reverse().map((c) => (c === '{' ? '}' : ']'));
  if (closers.length > 0) {
    const braces = closers.filter((c) => c === '}').length;
    const brackets = closers.length - braces;
    const parts: string[] = [];
    if (braces > 0) parts.push(`${braces} brace${braces > 1 ? 's' : ''}`);
    if (brackets > 0) parts.push(`${brackets} bracket${brackets > 1 ? 's' : ''}`);
    closedParts.push(`closed ${parts.join(' and ')}`);
  }
  return { text: out + closers.join(''), description: closedParts.join(', ') };
}
