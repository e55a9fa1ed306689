/**
 * Who must say yes before the agent acts. By default the user approves every edit and every
 * command; the user may let edits apply on their own (`edits: 'auto'`) and let commands that start
 * with a prefix they chose run on their own (`commands: 'allowList'`). Confinement applies
 * whatever this says: "allow" only skips the question.
 *
 * A prefix allows one command, never a chain: "npm test" must not let through
 * "npm test; curl … | sh". Any shell syntax that can start, chain or redirect commands
 * (; & && | || ` $( < > and line breaks) sends the command to the user, even inside quotes, where
 * it would be harmless: telling harmless quoting from injection is a shell parser's job, and a
 * question costs the user one click, a wrong "allow" can cost the machine.
 */

export type EditApprovalMode = 'ask' | 'auto';
export type CommandApprovalMode = 'ask' | 'allowList';

export interface ApprovalSettings {
  edits: EditApprovalMode;
  commands: CommandApprovalMode;
  /** Command prefixes that run without asking when `commands` is 'allowList'. */
  allowedCommands: readonly string[];
}

export const DEFAULT_APPROVAL_SETTINGS: ApprovalSettings = Object.freeze({
  edits: 'ask',
  commands: 'ask',
  allowedCommands: Object.freeze([]),
});

export type ProposedAction =
  { kind: 'edit'; path: string } | { kind: 'write'; path: string } | { kind: 'command'; command: string; cwd?: string };

export type ApprovalDecision =
  | { verdict: 'allow'; because: 'edits-auto' }
  | { verdict: 'allow'; because: 'allowed-prefix'; prefix: string }
  | { verdict: 'ask'; because: 'setting' | 'no-matching-prefix'; suggestedPrefix?: string }
  | { verdict: 'ask'; because: 'shell-syntax'; found: string[] };

export function decideApproval(action: ProposedAction, settings: ApprovalSettings): ApprovalDecision {
  if (action.kind !== 'command')
    return settings.edits === 'auto' ? { verdict: 'allow', because: 'edits-auto' } : { verdict: 'ask', because: 'setting' };
  const found = shellSyntax(action.command);
  if (found.length > 0) return { verdict: 'ask', because: 'shell-syntax', found };
  const suggestedPrefix = suggestAllowPrefix(action.command);
  const suggestion = suggestedPrefix ? { suggestedPrefix } : {};
  if (settings.commands !== 'allowList') return { verdict: 'ask', because: 'setting', ...suggestion };
  const prefix = settings.allowedCommands.find((p) => commandMatchesPrefix(action.command, p));
  return prefix !== undefined
    ? { verdict: 'allow', because: 'allowed-prefix', prefix: normalize(prefix) }
    : { verdict: 'ask', because: 'no-matching-prefix', ...suggestion };
}

const SHELL_SYNTAX: readonly [RegExp, string][] = [
  [/;/, ';'],
  [/&&/, '&&'],
  [/\|\|/, '||'],
  [/(^|[^|])\|(?!\|)/, '|'],
  [/(^|[^&])&(?!&)/, '&'],
  [/`/, '`'],
  [/\$\(/, '$('],
  [/</, '<'],
  [/>/, '>'],
  [/[\r\n]/, 'line break'],
];

/** The chaining, substitution and redirection syntax in `command` ([] when there is none). */
export function shellSyntax(command: string): string[] {
  return SHELL_SYNTAX.filter(([re]) => re.test(command)).map(([, name]) => name);
}

/**
 * True when the command is the prefix or the prefix followed by more words: "npm test" matches
 * "npm test -- --grep x", not "npm tests" or "npm testing". Spaces are compared collapsed; a blank
 * prefix or one with shell syntax matches nothing (it would allow everything, or nothing sensible).
 */
export function commandMatchesPrefix(command: string, prefix: string): boolean {
  const p = normalize(prefix);
  if (p === '' || shellSyntax(p).length > 0 || shellSyntax(command).length > 0) return false;
  const c = normalize(command);
  return c === p || c.startsWith(`${p} `);
}

/** What "Always allow commands starting with …" offers: the program and its subcommand ("npm run build", "git status", "ls"). */
export function suggestAllowPrefix(command: string): string | undefined {
  if (shellSyntax(command).length > 0) return undefined;
  const words = normalize(command).split(' ');
  const program = words[0];
  if (!program) return undefined;
  const sub = /^[A-Za-z][\w:-]*$/;
  const out = [program];
  if (words[1] && sub.test(words[1])) {
    out.push(words[1]);
    // Package-manager scripts: "npm run build" and "npm run deploy" are different commands.
    if (['run', 'exec', 'x', 'run-script'].includes(words[1]) && words[2] && sub.test(words[2])) out.push(words[2]);
  }
  return out.join(' ');
}

export interface SettingsProblem {
  setting: keyof ApprovalSettings;
  message: string;
}

/**
 * Reads the three settings from untrusted configuration values. A wrong value falls back to the
 * safe default (ask) and is reported, never guessed into something more permissive.
 */
export function approvalSettingsFrom(raw: { edits?: unknown; commands?: unknown; allowedCommands?: unknown }): {
  settings: ApprovalSettings;
  problems: SettingsProblem[];
} {
  const problems: SettingsProblem[] = [];
  let edits: EditApprovalMode = 'ask';
  if (raw.edits === 'auto' || raw.edits === 'ask') edits = raw.edits;
  else if (raw.edits !== undefined)
    problems.push({
      setting: 'edits',
      message: `memgpt.approval.edits must be "ask" or "auto" (got ${JSON.stringify(raw.edits)}); every edit asks.`,
    });
  let commands: CommandApprovalMode = 'ask';
  if (raw.commands === 'allowList' || raw.commands === 'ask') commands = raw.commands;
  else if (raw.commands !== undefined)
    problems.push({
      setting: 'commands',
      message: `memgpt.approval.commands must be "ask" or "allowList" (got ${JSON.stringify(raw.commands)}); every command asks.`,
    });
  const allowedCommands: string[] = [];
  if (Array.isArray(raw.allowedCommands)) {
    for (const p of raw.allowedCommands as unknown[]) {
      if (typeof p === 'string' && normalize(p) !== '' && shellSyntax(p).length === 0) allowedCommands.push(normalize(p));
      else
        problems.push({
          setting: 'allowedCommands',
          message: `The allowed command ${JSON.stringify(p)} is ignored: a prefix must be a non-empty command without ; & | \` $( < > or line breaks.`,
        });
    }
  } else if (raw.allowedCommands !== undefined) {
    problems.push({
      setting: 'allowedCommands',
      message: 'memgpt.approval.allowedCommands must be a list of command prefixes; none are used.',
    });
  }
  return { settings: { edits, commands, allowedCommands }, problems };
}

function normalize(command: string): string {
  return command.trim().replace(/[ \t]+/g, ' ');
}
