/**
 * The environment a model-proposed command runs with: the user's, minus anything that looks like
 * a credential. A command the user approved for one purpose must not be able to read the model
 * API key (or a cloud token) from its environment and print it into the conversation, or send it
 * anywhere. Two rules, because either alone misses cases: by name (any variable whose name
 * contains KEY, TOKEN, SECRET or PASSWORD — also PASSWD and CREDENTIAL, the other common
 * spellings) and by value (any variable holding one of the known secrets, whatever its name).
 *
 * A few variables are set so that a command without a terminal never waits for input it cannot
 * get (there is no stdin): git's credential prompt and pagers are turned off.
 */

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;

/** Secrets shorter than this are not matched by value: a 3-letter "key" would strip harmless variables. */
const MIN_SECRET_VALUE_CHARS = 8;

const NO_PROMPTS: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  PAGER: 'cat',
};

export interface StrippedEnvironment {
  env: Record<string, string>;
  /** Names removed, for the approval card ("runs without: OPENAI_API_KEY, GITHUB_TOKEN"). */
  removed: string[];
}

export function commandEnvironment(base: NodeJS.ProcessEnv, secretValues: readonly (string | undefined)[] = []): StrippedEnvironment {
  const secrets = secretValues
    .filter((s): s is string => typeof s === 'string' && s.trim().length >= MIN_SECRET_VALUE_CHARS)
    .map((s) => s.trim());
  const env: Record<string, string> = {};
  const removed: string[] = [];
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    if (SECRET_NAME.test(name) || secrets.some((s) => value.includes(s))) {
      removed.push(name);
      continue;
    }
    env[name] = value;
  }
  Object.assign(env, NO_PROMPTS);
  return { env, removed: removed.sort() };
}
