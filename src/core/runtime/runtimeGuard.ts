import { MemgptError, type RuntimeErrorCode } from '../base/errors';
import type { WorkspaceStorage } from './workspaceStorage';

/** The runtime cannot do what was asked: closed, read-only, untrusted, or a part is missing. */
export class RuntimeUnavailableError extends MemgptError<RuntimeErrorCode> {}

/**
 * The two checks every service makes before acting: the runtime is still open, and (for writes)
 * this window holds the memory. Shared, so every refusal reads the same.
 */
export class RuntimeGuard {
  private closedFlag = false;

  constructor(private readonly storage: Pick<WorkspaceStorage, 'readOnly' | 'readOnlyReason'>) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  close(): void {
    this.closedFlag = true;
  }

  get readOnly(): boolean {
    return this.storage.readOnly;
  }

  get readOnlyReason(): string {
    return this.storage.readOnlyReason ?? 'Another window holds this memory.';
  }

  assertOpen(): void {
    if (this.closedFlag) throw new RuntimeUnavailableError('closed', 'The MemGPT runtime of this window was closed.');
  }

  assertWritable(what: string): void {
    this.assertOpen();
    if (this.storage.readOnly) {
      throw new RuntimeUnavailableError(
        'read_only',
        `MemGPT cannot ${what} in this window: ${this.storage.readOnlyReason ?? 'another window holds this workspace’s memory'}`,
      );
    }
  }
}
