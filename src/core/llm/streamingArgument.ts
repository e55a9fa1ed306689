/**
 * Decodes one string-valued top-level key (for MemGPT: `message` of
 * `send_message`) out of a JSON object that arrives in arbitrary fragments, so
 * the user sees the reply while the model is still writing the call.
 *
 * It is a small state machine over characters, not a re-parse per fragment:
 * tool-call arguments come in hundreds of tiny pieces and re-parsing the whole
 * buffer each time would be quadratic. Escapes (\n, \", \\, \uXXXX and
 * surrogate pairs) may be split at any point between fragments; nested values
 * of other keys are skipped without being decoded. Input that is not a JSON
 * object simply yields nothing: the final arguments are validated elsewhere.
 */

type State =
  | 'before_object'
  | 'expect_key'
  | 'in_key'
  | 'expect_colon'
  | 'expect_value'
  | 'in_target_string'
  | 'skip_string'
  | 'skip_nested'
  | 'skip_literal'
  | 'expect_comma'
  | 'done';

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

export class StreamingStringArgument {
  private state: State = 'before_object';
  private key = '';
  private keyEscape = false;
  /** Pending escape sequence inside the target string, starting with the backslash. */
  private escape = '';
  /** A high surrogate from \uD8xx waiting for its low half. */
  private highSurrogate: number | null = null;
  private skipDepth = 0;
  private skipInString = false;
  private skipEscape = false;
  private found = false;
  private decodedSoFar = '';

  constructor(private readonly targetKey: string = 'message') {}

  /** Everything decoded so far for the target key. */
  get text(): string {
    return this.decodedSoFar;
  }

  /** True once the target key's string value has been read to its closing quote. */
  get complete(): boolean {
    return this.found && this.state !== 'in_target_string';
  }

  /** Feeds the next raw fragment; returns the newly decoded text (possibly empty). */
  push(fragment: string): string {
    let out = '';
    for (let i = 0; i < fragment.length && this.state !== 'done'; i++) {
      const ch = fragment[i]!;
      switch (this.state) {
        case 'before_object':
          if (ch === '{') this.state = 'expect_key';
          break;
        case 'expect_key':
          if (ch === '"') {
            this.key = '';
            this.keyEscape = false;
            this.state = 'in_key';
          } else if (ch === '}') {
            this.state = 'done';
          }
          break;
        case 'in_key':
          if (this.keyEscape) {
            this.key += ch;
            this.keyEscape = false;
          } else if (ch === '\\') {
            this.keyEscape = true;
          } else if (ch === '"') {
            this.state = 'expect_colon';
          } else {
            this.key += ch;
          }
          break;
        case 'expect_colon':
          if (ch === ':') this.state = 'expect_value';
          break;
        case 'expect_value':
          if (isWhitespace(ch)) break;
          if (ch === '"') {
            // Only the first occurrence counts: a model repeating the key does not double the text.
            this.state = this.key === this.targetKey && !this.found ? 'in_target_string' : 'skip_string';
            if (this.state === 'in_target_string') this.found = true;
            this.skipEscape = false;
          } else if (ch === '{' || ch === '[') {
            this.skipDepth = 1;
            this.skipInString = false;
            this.skipEscape = false;
            this.state = 'skip_nested';
          } else {
            this.state = 'skip_literal';
          }
          break;
        case 'in_target_string':
          out += this.decodeStringChar(ch);
          break;
        case 'skip_string':
          if (this.skipEscape) this.skipEscape = false;
          else if (ch === '\\') this.skipEscape = true;
          else if (ch === '"') this.state = 'expect_comma';
          break;
        case 'skip_nested':
          if (this.skipInString) {
            if (this.skipEscape) this.skipEscape = false;
            else if (ch === '\\') this.skipEscape = true;
            else if (ch === '"') this.skipInString = false;
          } else if (ch === '"') {
            this.skipInString = true;
          } else if (ch === '{' || ch === '[') {
            this.skipDepth++;
          } else if (ch === '}' || ch === ']') {
            this.skipDepth--;
            if (this.skipDepth === 0) this.state = 'expect_comma';
          }
          break;
        case 'skip_literal':
          if (ch === ',') this.state = 'expect_key';
          else if (ch === '}') this.state = 'done';
          break;
        case 'expect_comma':
          if (ch === ',') this.state = 'expect_key';
          else if (ch === '}') this.state = 'done';
          break;
      }
    }
    this.decodedSoFar += out;
    return out;
  }

  private decodeStringChar(ch: string): string {
    if (this.escape.length === 0) {
      if (ch === '\\') {
        this.escape = '\\';
        return '';
      }
      if (ch === '"') {
        this.state = 'expect_comma';
        return this.flushSurrogate();
      }
      return this.flushSurrogate() + ch;
    }
    this.escape += ch;
    if (this.escape.length === 2) {
      const simple = SIMPLE_ESCAPES[ch];
      if (simple !== undefined) {
        this.escape = '';
        return this.flushSurrogate() + simple;
      }
      if (ch !== 'u') {
        // Invalid escape: keep the character rather than losing text the user should see.
        this.escape = '';
        return this.flushSurrogate() + ch;
      }
      return '';
    }
    if (this.escape.length < 6) return '';
    const code = Number.parseInt(this.escape.slice(2), 16);
    this.escape = '';
    if (Number.isNaN(code)) return '';
    if (code >= 0xd800 && code <= 0xdbff) {
      const pending = this.flushSurrogate();
      this.highSurrogate = code;
      return pending;
    }
    if (code >= 0xdc00 && code <= 0xdfff && this.highSurrogate !== null) {
      const pair = String.fromCharCode(this.highSurrogate, code);
      this.highSurrogate = null;
      return pair;
    }
    return this.flushSurrogate() + String.fromCharCode(code);
  }

  /** A lone high surrogate is emitted as U+FFFD so the text stays valid UTF-16. */
  private flushSurrogate(): string {
    if (this.highSurrogate === null) return '';
    this.highSurrogate = null;
    return '\uFFFD';
  }
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t';
}
