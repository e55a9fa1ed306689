/**
 * Keeps the start and the end of a stream of bytes, whatever its length, in bounded memory: a
 * build log's first lines say what ran and its last lines say what failed, while the middle is
 * mostly noise the model cannot afford in its context window. The cut is said in the text, with
 * byte counts, so the model knows it did not see everything (and how much it missed).
 */
export class OutputCapture {
  private readonly head: Buffer;
  private headUsed = 0;
  /** A ring of the last tailBytes bytes seen after the head filled. */
  private readonly tail: Buffer;
  private tailStart = 0;
  private tailUsed = 0;
  private total = 0;

  constructor(
    readonly headBytes: number,
    readonly tailBytes: number,
  ) {
    this.head = Buffer.alloc(headBytes);
    this.tail = Buffer.alloc(tailBytes);
  }

  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.headBytes + this.tailBytes;
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    let data = chunk;
    if (this.headUsed < this.headBytes) {
      const n = Math.min(this.headBytes - this.headUsed, data.length);
      data.copy(this.head, this.headUsed, 0, n);
      this.headUsed += n;
      data = data.subarray(n);
    }
    if (data.length === 0 || this.tailBytes === 0) return;
    if (data.length >= this.tailBytes) {
      data.copy(this.tail, 0, data.length - this.tailBytes);
      this.tailStart = 0;
      this.tailUsed = this.tailBytes;
      return;
    }
    for (let i = 0; i < data.length;) {
      const writeAt = (this.tailStart + this.tailUsed) % this.tailBytes;
      const n = Math.min(data.length - i, this.tailBytes - writeAt);
      data.copy(this.tail, writeAt, i, i + n);
      i += n;
      const overflow = Math.max(0, this.tailUsed + n - this.tailBytes);
      this.tailUsed = Math.min(this.tailBytes, this.tailUsed + n);
      this.tailStart = (this.tailStart + overflow) % this.tailBytes;
    }
  }

  /** The kept text; when bytes were dropped, a line saying how many, between head and tail. */
  text(): string {
    const head = this.head.subarray(0, this.headUsed);
    const tail = Buffer.concat([
      this.tail.subarray(this.tailStart, Math.min(this.tailBytes, this.tailStart + this.tailUsed)),
      this.tail.subarray(0, Math.max(0, this.tailStart + this.tailUsed - this.tailBytes)),
    ]);
    if (!this.truncated) return Buffer.concat([head, tail]).toString('utf8');
    // Cut at character boundaries so the seams show no replacement characters.
    const headText = head.subarray(0, utf8SafeEnd(head)).toString('utf8');
    const tailText = tail.subarray(utf8SafeStart(tail)).toString('utf8');
    const omitted = this.total - this.headUsed - this.tailUsed;
    return `${headText}\n[… ${omitted} bytes of output cut here; ${this.total} bytes in all, the first ${this.headUsed} and the last ${this.tailUsed} are shown …]\n${tailText}`;
  }
}

/** Length of `b` without a trailing, incomplete UTF-8 sequence. */
function utf8SafeEnd(b: Buffer): number {
  let i = b.length;
  let back = 0;
  while (i > 0 && back < 4 && (b[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return b.length;
  const lead = b[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need === back + 1 || need === 1 ? b.length : i - 1;
}

/** Offset of the first byte in `b` that starts a UTF-8 character. */
function utf8SafeStart(b: Buffer): number {
  let i = 0;
  while (i < b.length && i < 3 && (b[i]! & 0xc0) === 0x80) i++;
  return i;
}
