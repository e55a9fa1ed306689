/**
 * The one-line preview of a core memory block in the picker. The whole block, flattened, with the
 * newest line (blocks grow at the end: "my name is Ada" is added below "Name: not known yet.")
 * leading, so what was remembered last is what the picker shows first.
 */
const SEPARATOR = ' · ';

export function coreMemoryPreview(value: string): string {
  const lines = value
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return '(empty)';
  const newest = lines[lines.length - 1]!;
  return lines.length === 1 ? newest : `${newest}${SEPARATOR}${lines.slice(0, -1).join(SEPARATOR)}`;
}
