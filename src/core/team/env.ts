/** The environment variable holding the shared store's connection string (CI secrets, developer shells). */
export const POSTGRES_URL_ENV = 'MEMGPT_POSTGRES_URL';
/** The environment variable that turns the shared store on for the CLI ('auto' or a repository id), as memgpt.index.sharedStore does in the editor. */
export const SHARED_STORE_ENV = 'MEMGPT_SHARED_STORE';
