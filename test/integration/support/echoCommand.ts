/** The echo test extension's command, shared by the extension and UI scenarios (no `vscode` import here). */
export const USE_ECHO_BACKEND_COMMAND = 'memgptTest.useEchoBackend';
export const USE_ECHO_BACKEND_TITLE = 'MemGPT Test: Use Echo Backend';
export const REGISTER_SCRIPTED_MODELS_COMMAND = 'memgptTest.registerScriptedModels';
export const REGISTER_SCRIPTED_MODELS_TITLE = 'MemGPT Test: Register Scripted Models';
/** The scripted chat-model provider's vendor and its one model (test/integration/support/scriptedModels.ts). */
export const SCRIPTED_VENDOR = 'memgpt-test';
export const SCRIPTED_MODEL_ID = 'scripted-1';
export const SCRIPTED_FAMILY = 'scripted';
