/** Command ids of the editor integration, named once (package.json `contributes.commands` lists the same ids). */
export const COMMANDS = {
  openChat: 'memgpt.openChat',
  rememberSelection: 'memgpt.rememberSelection',
  askAboutSelection: 'memgpt.askAboutSelection',
  indexWorkspace: 'memgpt.indexWorkspace',
  rebuildIndex: 'memgpt.rebuildIndex',
  pauseIndexing: 'memgpt.pauseIndexing',
  resumeIndexing: 'memgpt.resumeIndexing',
  searchMemory: 'memgpt.searchMemory',
  showCoreMemory: 'memgpt.showCoreMemory',
  reflectNow: 'memgpt.reflectNow',
  undoReflection: 'memgpt.undoReflection',
  setApiKey: 'memgpt.setApiKey',
  setSharedStoreConnection: 'memgpt.setSharedStoreConnection',
  selectModel: 'memgpt.selectModel',
  newAgent: 'memgpt.newAgent',
  switchAgent: 'memgpt.switchAgent',
  resetAgent: 'memgpt.resetAgent',
  exportAgent: 'memgpt.exportAgent',
  importAgent: 'memgpt.importAgent',
  downloadEmbeddingModel: 'memgpt.downloadEmbeddingModel',
  showMcpServers: 'memgpt.showMcpServers',
} as const;

/** Context keys set by the integration, used in `enablement` and `when` clauses. */
export const CONTEXT_KEYS = {
  indexing: 'memgpt.indexing',
  indexingPaused: 'memgpt.indexingPaused',
  readOnly: 'memgpt.readOnly',
} as const;
