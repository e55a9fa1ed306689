/**
 * Everything `memgpt` prints goes through here, so the API key never reaches a terminal or a log.
 * Messages (errors, notes) get full redaction: the known key and every key-shaped token. Content
 * (replies, search hits, exports) gets only the known key removed: key-shaped patterns would also
 * mangle legitimate code such as `api_key = os.environ[...]`.
 */
import { REDACTED, redactSecrets } from '../core/security/redact';
import { escapeJsonForDisplay } from '../core/workspace/displayText';

/** Shorter keys are not masked in content (as in redactSecrets): masking "abc" everywhere garbles text and protects nothing. */
const MIN_SECRET_CHARS = 6;

export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Output {
  private readonly secrets: readonly string[];

  constructor(
    private readonly out: TextSink,
    private readonly err: TextSink,
    apiKey: string | undefined,
    readonly debug = false,
  ) {
    this.secrets = apiKey && apiKey.length >= MIN_SECRET_CHARS ? [apiKey] : [];
  }

  /** Content for stdout (replies, results, JSON). */
  content(text: string): void {
    this.out.write(this.redactContent(text));
  }

  /** A note, warning or error line for stderr. */
  message(text: string): void {
    this.err.write(`${redactSecrets(cliWording(text), this.secrets).replace(/\n?$/, '\n')}`);
  }

  /** Raw stderr (progress bar control sequences); redacted like messages. */
  stderrRaw(text: string): void {
    this.err.write(redactSecrets(text, this.secrets));
  }

  json(value: unknown): void {
    this.content(`${escapeJsonForDisplay(JSON.stringify(value, null, 2))}\n`);
  }

  redactContent(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(REDACTED);
    }
    return out;
  }

  redactMessage(text: string): string {
    return redactSecrets(text, this.secrets);
  }

  streamRedactor(): StreamRedactor {
    return new StreamRedactor(this.secrets[0]);
  }

  get stdoutIsTTY(): boolean {
    return this.out.isTTY === true;
  }

  get stderrIsTTY(): boolean {
    return this.err.isTTY === true;
  }
}

/**
 * Removes a known secret from text that arrives in pieces (streamed deltas), also when the secret
 * is split across pieces: the longest tail that could still become the secret is held back until
 * the next piece or `end()`.
 */
export class StreamRedactor {
  private held = '';

  constructor(
    private readonly secret: string | undefined,
    private readonly replacement = REDACTED,
  ) {}

  push(piece: string): string {
    if (!this.secret) return piece;
    let text = (this.held + piece).split(this.secret).join(this.replacement);
    this.held = '';
    for (let n = Math.min(this.secret.length - 1, text.length); n > 0; n--) {
      if (this.secret.startsWith(text.slice(text.length - n))) {
        this.held = text.slice(text.length - n);
        text = text.slice(0, text.length - n);
        break;
      }
    }
    return text;
  }

  end(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

/** The core's messages name the extension's settings and commands; on the command line the flags do that job. */
const EDITOR_TO_CLI: readonly (readonly [RegExp, string])[] = [
  [/MemGPT: Model \(or --model\)/g, '--model'],
  [/MemGPT: Base URL/g, '--base-url'],
  [/MemGPT: Select Model|MemGPT: Model/g, '--model'],
  [/MemGPT: Context Window/g, '--context-window'],
  [/MemGPT: Request Timeout/g, '--request-timeout'],
  // The Anthropic wording already names its variable for the command line.
  [/MemGPT: Set API Key \(or ANTHROPIC_API_KEY for the command line\)/g, 'the ANTHROPIC_API_KEY variable'],
  [/MemGPT: Set API Key/g, 'the OPENAI_API_KEY variable'],
  [/MemGPT: Undo Reflection/g, 'memgpt reflect --undo <id>'],
];

export function cliWording(text: string): string {
  return EDITOR_TO_CLI.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}
