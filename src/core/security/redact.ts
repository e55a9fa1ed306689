/**
 * Keeps API keys out of anything a person or a file may see: error messages, logs, exported
 * agents. Used by the extension and the command line alike.
 *
 * Two layers, because either alone misses cases: the secrets we know (the stored key, the env
 * key) are removed wherever they appear, also URL-encoded; and well-known key shapes (OpenAI
 * `sk-…`, `Bearer …` headers, `api_key=` query parameters) are removed even when we never saw
 * the key, e.g. a key an error message echoes from a proxy's configuration.
 */

export const REDACTED = '[redacted]';

/** Shorter "secrets" are not replaced: masking every "a" or "abc" would garble the text and protects nothing. */
const MIN_SECRET_CHARS = 6;

const KEY_SHAPES: readonly RegExp[] = [
  // OpenAI-style keys: sk-…, sk-proj-…, sk-svcacct-… (and the same shape used by many proxies).
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // Authorization headers quoted in errors or logs.
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // Keys passed as query parameters or key=value pairs.
  /\b(api[_-]?key|access[_-]?token|auth[_-]?token)(["']?\s*[=:]\s*["']?)[^\s"'&,;]{6,}/gi,
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `text` with every known secret and every key-shaped token replaced by `[redacted]`.
 * Empty, undefined and very short secrets are ignored (see MIN_SECRET_CHARS).
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[] = []): string {
  let out = text;
  const known = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.trim().length >= MIN_SECRET_CHARS))];
  // Longest first, so a key that contains another known key is removed whole.
  known.sort((a, b) => b.length - a.length);
  for (const secret of known) {
    const forms = new Set([secret, secret.trim(), encodeURIComponent(secret)]);
    for (const form of forms) {
      if (form.length >= MIN_SECRET_CHARS) out = out.replace(new RegExp(escapeRegExp(form), 'g'), REDACTED);
    }
  }
  for (const shape of KEY_SHAPES) {
    out = out.replace(shape, (match, ...groups: unknown[]) => {
      const label = groups[0];
      const separator = groups[1];
      if (typeof label === 'string' && typeof separator === 'string') return `${label}${separator}${REDACTED}`;
      if (typeof label === 'string' && /^bearer$/i.test(label)) return `${label} ${REDACTED}`;
      return match.startsWith('sk-') ? `sk-${REDACTED}` : REDACTED;
    });
  }
  return out;
}

/** The message of any thrown value, redacted: the one way errors reach the user or a log. */
export function redactedErrorMessage(error: unknown, secrets: readonly (string | undefined | null)[] = []): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : String(error);
  return redactSecrets(message, secrets);
}
