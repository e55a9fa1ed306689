/**
 * Keeps API keys out of anything a person or a file may see: error messages, logs, exported
 * agents, memory and recall, and what goes back to the model. Used by the extension and the
 * command line alike.
 *
 * Two layers, because either alone misses cases: the secrets we know (the stored key, the env
 * key) are removed wherever they appear, also URL- or JSON-encoded; and well-known key formats
 * (OpenAI and Anthropic `sk-…`, GitHub `ghp_…`, AWS `AKIA…`, Slack `xox…`, private key blocks,
 * `Bearer …` headers, `api_key=` pairs) are removed even when we never saw the key, e.g. a key an
 * error message echoes from a proxy's configuration, or one the user pasted.
 *
 * Two strengths. `redactSecrets` (errors and logs) also removes loosely key-like values: an
 * error loses nothing by it. `maskSecrets` (text that is stored or read by the model) is stricter
 * about context-only matches, so memory keeps ordinary words like "Bearer authentication" or
 * `apiKey: string`, and marks each removal `[redacted secret]` so the model and the user see it.
 */

export const REDACTED = '[redacted]';
/** What replaces a secret in memory, recall, exports and model input. */
export const SECRET_MARKER = '[redacted secret]';

/** Shorter "secrets" are not replaced: masking every "a" or "abc" would garble the text and protects nothing. */
const MIN_SECRET_CHARS = 6;

/**
 * Key formats with a distinctive prefix or frame: a match is a secret whatever surrounds it.
 * Each replaces the whole token (a prefix kept would tell an attacker which vendor to try).
 */
const KEY_FORMATS: readonly RegExp[] = [
  // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED…): the whole block; an unterminated one up to
  // where the base64 body ends (also inside JSON, where newlines are written `\n`).
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|(?:[A-Za-z0-9+/=\s]|\\[nr])*)/g,
  // OpenAI (sk-…, sk-proj-…, sk-svcacct-…), Anthropic (sk-ant-…) and the many proxies using that shape.
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // Stripe-style live and test keys.
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g,
  // GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_).
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{22,}/g,
  // GitLab personal tokens, npm tokens, Hugging Face tokens.
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  /\bhf_[A-Za-z0-9]{30,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
  // Google API keys.
  /\bAIza[A-Za-z0-9_-]{35}/g,
  // Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-) and incoming-webhook URLs.
  /\bxox[abeprs]-[A-Za-z0-9-]{10,}/g,
  /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]{20,}/g,
  // JSON Web Tokens: bearer credentials on their own.
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];

/** Names a secret goes by in headers, query strings, config files and code. */
const SECRET_NAMES = 'api[_-]?key|access[_-]?token|auth[_-]?token|secret[_-]?access[_-]?key|client[_-]?secret|private[_-]?token';

/** Not `\\b`: a name may follow an underscore (AWS_SECRET_ACCESS_KEY, OPENAI_API_KEY). */
const NAME_START = '(?<![A-Za-z0-9])';

/** Secrets recognised by context only (the word before them), for errors and logs: loose. */
const LOOSE_CONTEXTS: readonly RegExp[] = [
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  new RegExp(`${NAME_START}(${SECRET_NAMES})(["']?\\s*[=:]\\s*["']?)[^\\s"'&,;]{6,}`, 'gi'),
];

/**
 * The same for stored and model-facing text: the value must look random (16+ characters with a
 * digit and a letter), so prose and code such as `apiKey: options.apiKey` stay as written.
 */
const STRICT_VALUE = '(?=[A-Za-z0-9._~+/=-]*[0-9])(?=[A-Za-z0-9._~+/=-]*[A-Za-z])[A-Za-z0-9._~+/=-]{16,}';
const STRICT_CONTEXTS: readonly RegExp[] = [
  new RegExp(`\\b(Bearer)\\s+${STRICT_VALUE}`, 'gi'),
  new RegExp(`${NAME_START}(${SECRET_NAMES})(["']?\\s*[=:]\\s*["']?)${STRICT_VALUE}`, 'gi'),
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Known secrets, longest first, so a key that contains another known key is removed whole. */
function knownSecrets(secrets: readonly (string | undefined | null)[]): string[] {
  const known = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.trim().length >= MIN_SECRET_CHARS))];
  return known.sort((a, b) => b.length - a.length);
}

function replaceKnown(text: string, secrets: readonly (string | undefined | null)[], marker: string): string {
  let out = text;
  for (const secret of knownSecrets(secrets)) {
    // As written, URL-encoded (query strings) and JSON-escaped (tool-call arguments, exports).
    const forms = new Set([secret, secret.trim(), encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
    for (const form of forms) {
      if (form.length >= MIN_SECRET_CHARS && out.includes(form)) out = out.replace(new RegExp(escapeRegExp(form), 'g'), marker);
    }
  }
  return out;
}

function replaceShapes(text: string, contexts: readonly RegExp[], marker: string, keepSkPrefix: boolean): string {
  let out = text;
  for (const format of KEY_FORMATS) {
    out = out.replace(format, (match) => (keepSkPrefix && match.startsWith('sk-') ? `sk-${marker}` : marker));
  }
  for (const context of contexts) {
    out = out.replace(context, (_match, label: string, separator: unknown) =>
      typeof separator === 'string' ? `${label}${separator}${marker}` : `${label} ${marker}`,
    );
  }
  return out;
}

/**
 * `text` with every known secret and every key-shaped token replaced by `[redacted]`: for
 * errors and logs. Empty, undefined and very short secrets are ignored (see MIN_SECRET_CHARS).
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[] = []): string {
  // "sk-[redacted]" tells the reader of an error which kind of key was rejected.
  return replaceShapes(replaceKnown(text, secrets, REDACTED), LOOSE_CONTEXTS, REDACTED, true);
}

/** The message of any thrown value, redacted: the one way errors reach the user or a log. */
export function redactedErrorMessage(error: unknown, secrets: readonly (string | undefined | null)[] = []): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : String(error);
  return redactSecrets(message, secrets);
}

const registered = new Set<string>();

/**
 * Tells this process which values are secrets (the configured API keys), so whatever it stores
 * or exports is masked even where the key is not at hand (the CLI's export, an archival insert).
 * Kept for the life of the process: a key replaced in the settings is still a secret.
 */
export function registerSecrets(...values: readonly (string | undefined | null)[]): void {
  for (const v of values) if (typeof v === 'string' && v.trim().length >= MIN_SECRET_CHARS) registered.add(v);
}

/** The registered secrets, plus the environment's OpenAI key (the CLI's and the extension's fallback). */
export function processSecrets(): string[] {
  return [...registered, ...(process.env.OPENAI_API_KEY ? [process.env.OPENAI_API_KEY] : [])];
}

/**
 * `text` with this process's secrets, `extra` ones and well-known key formats replaced by
 * `[redacted secret]`: for anything stored (memory, recall, exports) or read by the model.
 */
export function maskSecrets(text: string, extra: readonly (string | undefined | null)[] = []): string {
  return replaceShapes(replaceKnown(text, [...processSecrets(), ...extra], SECRET_MARKER), STRICT_CONTEXTS, SECRET_MARKER, false);
}

/** A copy of a JSON-like value with `maskSecrets` applied to every string in it (keys included). */
export function maskSecretsDeep<T>(value: T, extra: readonly (string | undefined | null)[] = []): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return maskSecrets(v, extra);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [maskSecrets(k, extra), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
