export type RuntimeLogLevel = 'info' | 'warn' | 'error';
/** Where the runtime says what it does: the extension's output channel, the CLI's stderr. */
export type RuntimeLog = (level: RuntimeLogLevel, message: string) => void;
