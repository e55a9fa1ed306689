/** The echo test extension's command, shared by the extension and UI scenarios (no `vscode` import here). */
export const USE_ECHO_BACKEND_COMMAND = 'memgptTest.useEchoBackend';
export const USE_ECHO_BACKEND_TITLE = 'MemGPT Test: Use Echo Backend';
