export interface Config {
  port: number;
  dataDir: string;
  /** Required for DELETE /notes (bulk delete). */
  adminToken: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port number, got "${env.PORT}"`);
  }
  return {
    port,
    dataDir: env.NOTES_DATA_DIR ?? './data',
    adminToken: env.NOTES_ADMIN_TOKEN,
  };
}
