/** The port moved to src/core/runtime (the CLI implements the same runtime); re-exported for the adapters. */
export type * from '../core/runtime/runtimePort';
