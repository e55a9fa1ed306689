/**
 * Refuses regular expressions that can backtrack catastrophically. JavaScript's engine backtracks,
 * so a pattern such as `(a+)+$` or `(x|x)*y` over one 500-character line can hold the extension
 * host for minutes; the pattern comes from the model, and the model may be repeating text planted
 * in a workspace file. The rule is the usual "star height" one, made a little stricter: a
 * quantified group may contain neither another quantifier nor an alternation, and a back-reference
 * is refused. Literal search and ordinary patterns (`foo\w+bar`, `^export (async )?function`) pass.
 */

export interface RegexVerdict {
  safe: boolean;
  /** Why not, in words the model can act on. */
  reason?: string;
}

interface GroupFrame {
  hasQuantifier: boolean;
  hasAlternation: boolean;
}

export function checkRegexSafety(source: string): RegexVerdict {
  const stack: GroupFrame[] = [{ hasQuantifier: false, hasAlternation: false }];
  // What the next quantifier applies to: a closed group (with what it contained) or a single atom.
  let lastAtom: { group: GroupFrame | null } | null = null;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && source[i + 2] === '<')) {
        return { safe: false, reason: 'back-references are not supported in search_text patterns' };
      }
      i++;
      lastAtom = { group: null };
      continue;
    }
    if (c === '[') {
      // A character class is one atom; skip to its closing bracket (escapes included).
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j;
      lastAtom = { group: null };
      continue;
    }
    if (c === '(') {
      stack.push({ hasQuantifier: false, hasAlternation: false });
      if (source[i + 1] === '?') {
        // (?:  (?=  (?!  (?<=  (?<!  (?<name>
        i++;
        if (source[i + 1] === '<' && source[i + 2] !== '=' && source[i + 2] !== '!') {
          const close = source.indexOf('>', i);
          if (close > 0) i = close;
        } else {
          i++;
          if (source[i] === '<') i++;
        }
      }
      lastAtom = null;
      continue;
    }
    if (c === ')') {
      const closed = stack.length > 1 ? stack.pop()! : null;
      lastAtom = { group: closed };
      if (closed && (closed.hasQuantifier || closed.hasAlternation)) {
        // What a parent sees: it contains a quantifier or alternation somewhere inside.
        const parent = stack[stack.length - 1]!;
        parent.hasQuantifier ||= closed.hasQuantifier;
        parent.hasAlternation ||= closed.hasAlternation;
      }
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1]!.hasAlternation = true;
      lastAtom = null;
      continue;
    }
    const quantifier = c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(i)));
    if (quantifier) {
      if (c === '{') i = source.indexOf('}', i);
      if (source[i + 1] === '?' || source[i + 1] === '+') i++; // lazy / possessive-looking suffix
      const bounded = c === '?' || (c === '{' && /^\{\d+\}/.test(source.slice(source.lastIndexOf('{', i))));
      if (lastAtom?.group && !bounded && (lastAtom.group.hasQuantifier || lastAtom.group.hasAlternation)) {
        return {
          safe: false,
          reason:
            'a repeated group contains another repetition or an alternation (e.g. "(a+)+" or "(x|y)*"), which can take exponential time',
        };
      }
      stack[stack.length - 1]!.hasQuantifier = true;
      lastAtom = null;
      continue;
    }
    lastAtom = { group: null };
  }
  return { safe: true };
}
