/** Self-checking file content for the atomic-write crash test: header, body of one letter, footer. */
export function versionContent(n: number, size: number): string {
  const ch = String.fromCharCode(97 + (n % 26));
  return `v${n}\n${ch.repeat(size)}\nend v${n}\n`;
}
