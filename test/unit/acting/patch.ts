/**
 * A strict applier of unified diffs, for tests only: it checks every context and removed line
 * against the old text, so a diff that applies here is a correct diff of old → new.
 */
export function applyUnifiedDiff(oldText: string, diff: string): string {
  if (diff === '') return oldText;
  const a = splitKeep(oldText);
  const out: string[] = [];
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let ai = 0;
  let i = 2; // skip --- and +++
  while (i < lines.length) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]!);
    if (!m) throw new Error(`bad hunk header: ${lines[i]}`);
    const aStart = Number(m[2] ?? '1') === 0 ? Number(m[1]) : Number(m[1]) - 1;
    while (ai < aStart) out.push(a[ai++]!);
    i++;
    while (i < lines.length && !lines[i]!.startsWith('@@')) {
      const line = lines[i]!;
      const noEol = lines[i + 1] === '\\ No newline at end of file';
      const tag = line[0];
      const body = line.slice(1);
      if (tag === ' ' || tag === '-') {
        const have = a[ai];
        if (have === undefined || have.replace(/\r?\n$/, '') !== body)
          throw new Error(`context mismatch at old line ${ai + 1}: ${JSON.stringify(have)} vs ${JSON.stringify(body)}`);
        if (tag === ' ') out.push(have);
        ai++;
      } else if (tag === '+') {
        // The added line's ending: take the old file's style (tests use one style per file).
        const eol = oldText.includes('\r\n') ? '\r\n' : '\n';
        out.push(noEol ? body : body + eol);
      } else throw new Error(`bad diff line: ${line}`);
      i += noEol ? 2 : 1;
    }
  }
  while (ai < a.length) out.push(a[ai++]!);
  return out.join('');
}

function splitKeep(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', from)) {
    out.push(text.slice(from, at + 1));
    from = at + 1;
  }
  if (from < text.length) out.push(text.slice(from));
  return out;
}
