/**
 * Settings from VS Code, live: `current` is always the latest parsed value, and
 * `onDidChange` fires (with the changed sections) when the user edits any `memgpt.*` setting.
 * Rejected values are logged and shown once, never thrown.
 */
import * as vscode from 'vscode';
import { changedSections, parseSettings, type SETTING_KEYS, type MemGptSettings } from './settings';

export const CONFIG_SECTION = 'memgpt';

export function readSettings(env: NodeJS.ProcessEnv = process.env): { settings: MemGptSettings; problems: string[] } {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  return parseSettings((key) => config.get(key), env);
}

export interface SettingsChange {
  settings: MemGptSettings;
  previous: MemGptSettings;
  changed: (keyof MemGptSettings)[];
}

export class LiveSettings implements vscode.Disposable {
  private value: MemGptSettings;
  private readonly emitter = new vscode.EventEmitter<SettingsChange>();
  private readonly subscription: vscode.Disposable;
  private lastProblems = '';
  readonly onDidChange = this.emitter.event;

  constructor(private readonly log?: vscode.LogOutputChannel) {
    this.value = this.load();
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(CONFIG_SECTION)) return;
      const previous = this.value;
      this.value = this.load();
      const changed = changedSections(previous, this.value);
      if (changed.length > 0) this.emitter.fire({ settings: this.value, previous, changed });
    });
  }

  get current(): MemGptSettings {
    return this.value;
  }

  private load(): MemGptSettings {
    const { settings, problems } = readSettings();
    const text = problems.join('\n');
    if (text && text !== this.lastProblems) {
      for (const p of problems) this.log?.warn(p);
      void vscode.window.showWarningMessage(
        `MemGPT: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more, see the MemGPT output)` : ''}`,
      );
    }
    this.lastProblems = text;
    return settings;
  }

  /**
   * Writes a setting where the user keeps it: the workspace value if one is set (so the write is
   * not shadowed), else the user (global) value.
   */
  async update(key: (typeof SETTING_KEYS)[number], value: unknown): Promise<void> {
    const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
    const inspected = config.inspect(key);
    const target =
      inspected?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : inspected?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    await config.update(key, value, target);
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
