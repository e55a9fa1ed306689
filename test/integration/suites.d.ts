/** Generated at build time by suitesPlugin.mjs from test/integration/suite/*.test.ts. */
declare module 'virtual:integration-suites' {
  export interface IntegrationSuite {
    /** File name inside test/integration/suite/, e.g. "chatView.test.ts". */
    file: string;
    /** Evaluates the file, which registers its describe/it blocks with mocha. */
    load(): unknown;
  }
  export const integrationSuites: readonly IntegrationSuite[];
}
