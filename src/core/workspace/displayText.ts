/**
 * How a file name (or one line of text from a file) is shown to the model and printed on a
 * terminal. A name is data: a newline in it must not start what looks like a second result, an
 * escape sequence must not drive the terminal, and a right-to-left override must not make
 * `gnp.ts` read as `st.png`. Such characters are written as visible escapes instead
 * (`\n`, `\u202E`, `\u{E0041}`), and a real backslash is doubled so an escape is never ambiguous.
 * `unescapeDisplayText` undoes it, so a model can hand back the name it was shown.
 */

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

/**
 * Controls (C0, DEL, C1), format characters (bidi marks and overrides, zero-width spaces, the BOM,
 * tag characters), line and paragraph separators, and lone surrogates. Zero-width (non-)joiners
 * stay: emoji sequences and Persian or Indic names need them, and they change no direction.
 */
const UNSAFE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\\]|(?![\u200C\u200D])\p{Cf}/gu;

/**
 * `line`: one line of file text printed on a terminal (search excerpts). Tabs and backslashes stay
 * as they are there, since code is full of them; only what a terminal would obey is escaped.
 */
export function escapeForDisplay(text: string, options: { line?: boolean } = {}): string {
  return text.replace(UNSAFE, (ch) => {
    if (options.line && (ch === '\t' || ch === '\\')) return ch;
    const short = SHORT[ch];
    if (short) return short;
    const code = ch.codePointAt(0)!;
    const hex = code.toString(16).toUpperCase();
    return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
  });
}

/**
 * The same characters in JSON text (from `JSON.stringify`, which leaves bidi overrides, C1 controls
 * and line separators raw), written as JSON's own `\uXXXX` escapes: the output still parses to the
 * real names, and a terminal showing it obeys none of them. Newlines there are layout, and
 * backslashes are already escapes.
 */
export function escapeJsonForDisplay(json: string): string {
  return json.replace(UNSAFE, (ch) => {
    if (ch === '\n' || ch === '\\') return ch;
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
    return out;
  });
}

const ESCAPE = /\\(?:([nrt\\])|u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4}))/g;

/** True when `text` contains an escape that `escapeForDisplay` writes. */
export function hasDisplayEscapes(text: string): boolean {
  ESCAPE.lastIndex = 0;
  return ESCAPE.test(text);
}

/** The text `escapeForDisplay` was given, from what it returned (unknown escapes are left as they are). */
export function unescapeDisplayText(text: string): string {
  return text.replace(ESCAPE, (whole, short: string | undefined, braced: string | undefined, plain: string | undefined) => {
    if (short) return short === 'n' ? '\n' : short === 'r' ? '\r' : short === 't' ? '\t' : '\\';
    const code = parseInt((braced ?? plain)!, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
