/**
 * New / Switch / Reset / Export / Import agent. Every prompt can be answered by an argument, so
 * other extensions and tests drive the same code the user does (dialogs cannot be clicked there).
 */
import * as vscode from 'vscode';
import { DEFAULT_HUMAN_PRESET, DEFAULT_PERSONA_PRESET, HUMAN_PRESETS, PERSONA_PRESETS, type MemoryPreset } from '../../core/memory/presets';
import { AGENT_IMPORT_MAX_BYTES } from '../../core/limits';
import { redactSecrets } from '../../core/security/redact';
import type { AgentInfo } from '../../core/runtime/runtimePort';
import type { CommandContext } from '../commandContext';
import { errorMessage } from '../../core/base/errors';

async function pickPreset(
  kind: 'persona' | 'human',
  presets: Readonly<Record<string, MemoryPreset>>,
  fallback: string,
): Promise<string | undefined> {
  const items = Object.values(presets).map((p) => ({
    label: p.name,
    description: p.name === fallback ? '(default)' : '',
    detail: p.description,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `New agent: ${kind} preset`,
    placeHolder: kind === 'persona' ? 'Who the agent is (it rewrites this as it learns)' : 'What the agent knows about you at the start',
    ignoreFocusOut: true,
  });
  return picked?.label;
}

export async function newAgent(
  ctx: CommandContext,
  args?: { name?: string; personaPreset?: string; humanPreset?: string },
): Promise<{ id: string } | undefined> {
  const existing = await ctx.runtime.agents.listAgents().catch(() => [] as AgentInfo[]);
  const name =
    args?.name ??
    (await vscode.window.showInputBox({
      title: 'New MemGPT agent',
      prompt: 'A name for the agent (each agent has its own core memory and conversation).',
      value: `MemGPT ${existing.length + 1}`,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'The name cannot be empty.'),
    }));
  if (name === undefined) return undefined;
  const personaPreset =
    args?.personaPreset ?? (args ? DEFAULT_PERSONA_PRESET : await pickPreset('persona', PERSONA_PRESETS, DEFAULT_PERSONA_PRESET));
  if (personaPreset === undefined) return undefined;
  const humanPreset = args?.humanPreset ?? (args ? DEFAULT_HUMAN_PRESET : await pickPreset('human', HUMAN_PRESETS, DEFAULT_HUMAN_PRESET));
  if (humanPreset === undefined) return undefined;
  try {
    const created = await ctx.runtime.agents.createAgent({ name: name.trim(), personaPreset, humanPreset, makeActive: true });
    vscode.window.setStatusBarMessage(`$(check) MemGPT: now talking to "${created.name}"`, 4000);
    if (!args) await ctx.openChat();
    return { id: created.id };
  } catch (error) {
    await ctx.reportError(`Could not create the agent "${name}"`, error);
    return undefined;
  }
}

async function pickAgent(ctx: CommandContext, title: string, preferActive: boolean): Promise<AgentInfo | undefined> {
  const agents = await ctx.runtime.agents.listAgents();
  if (agents.length === 0) {
    void vscode.window.showInformationMessage('MemGPT: this workspace has no agents yet. Run "MemGPT: New Agent".');
    return undefined;
  }
  const sorted = preferActive ? [...agents].sort((a, b) => Number(b.active) - Number(a.active)) : agents;
  const picked = await vscode.window.showQuickPick(
    sorted.map((a) => ({
      label: a.name,
      description: a.active ? '(active)' : '',
      detail: [a.personaPreset, a.humanPreset].filter(Boolean).join(' · '),
      agent: a,
    })),
    { title, ignoreFocusOut: true },
  );
  return picked?.agent;
}

async function agentById(ctx: CommandContext, id: string): Promise<AgentInfo> {
  const agent = (await ctx.runtime.agents.listAgents()).find((a) => a.id === id);
  if (!agent) throw new Error(`No agent with id "${id}" in this workspace. Run "MemGPT: Switch Agent" to see the agents there are.`);
  return agent;
}

export async function switchAgent(ctx: CommandContext, args?: { agentId?: string }): Promise<string | undefined> {
  try {
    const agent = args?.agentId ? await agentById(ctx, args.agentId) : await pickAgent(ctx, 'Switch MemGPT agent', false);
    if (!agent) return undefined;
    await ctx.runtime.agents.switchAgent(agent.id);
    vscode.window.setStatusBarMessage(`$(check) MemGPT: now talking to "${agent.name}"`, 4000);
    return agent.id;
  } catch (error) {
    await ctx.reportError('Could not switch agents', error);
    return undefined;
  }
}

export async function resetAgent(ctx: CommandContext, args?: { agentId?: string; confirmed?: boolean }): Promise<boolean> {
  try {
    const active = (await ctx.runtime.agents.listAgents()).find((a) => a.active);
    const agent = args?.agentId
      ? await agentById(ctx, args.agentId)
      : args
        ? active
        : await pickAgent(ctx, 'Reset which MemGPT agent?', true);
    if (!agent) return false;
    if (args?.confirmed !== true) {
      const answer = await vscode.window.showWarningMessage(
        `Reset the agent "${agent.name}"?`,
        {
          modal: true,
          detail:
            'Its core memory goes back to its presets and its conversation context is emptied. Old messages stay in recall memory and remain searchable; archival memory is kept.',
        },
        'Reset',
      );
      if (answer !== 'Reset') return false;
    }
    await ctx.runtime.agents.resetAgent(agent.id);
    vscode.window.setStatusBarMessage(`$(check) MemGPT: "${agent.name}" was reset`, 4000);
    return true;
  } catch (error) {
    await ctx.reportError('Could not reset the agent', error);
    return false;
  }
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'agent';
}

export async function exportAgent(ctx: CommandContext, args?: { agentId?: string; uri?: vscode.Uri }): Promise<vscode.Uri | undefined> {
  try {
    const active = (await ctx.runtime.agents.listAgents()).find((a) => a.active);
    const agent = args?.agentId
      ? await agentById(ctx, args.agentId)
      : args
        ? active
        : await pickAgent(ctx, 'Export which MemGPT agent?', true);
    if (!agent) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target =
      args?.uri ??
      (await vscode.window.showSaveDialog({
        title: `Export "${agent.name}"`,
        saveLabel: 'Export',
        filters: { 'MemGPT agent': ['json'] },
        ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${safeFileName(agent.name)}.memgpt-agent.json`) } : {}),
      }));
    if (!target) return undefined;
    const data = await ctx.runtime.agents.exportAgent(agent.id);
    // The state store never exports keys; this also catches a key the user once pasted into the chat.
    const json = redactSecrets(JSON.stringify(data, null, 2), await ctx.keys.knownSecrets());
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(json + '\n'));
    void vscode.window.showInformationMessage(`MemGPT: exported "${agent.name}" to ${target.fsPath || target.toString()}.`);
    return target;
  } catch (error) {
    await ctx.reportError('Could not export the agent', error);
    return undefined;
  }
}

export async function importAgent(
  ctx: CommandContext,
  args?: { uri?: vscode.Uri; switchTo?: boolean },
): Promise<{ id: string; name: string } | undefined> {
  try {
    const uri =
      args?.uri ??
      (
        await vscode.window.showOpenDialog({
          title: 'Import a MemGPT agent',
          openLabel: 'Import',
          canSelectMany: false,
          filters: { 'MemGPT agent': ['json'] },
        })
      )?.[0];
    if (!uri) return undefined;
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.size > AGENT_IMPORT_MAX_BYTES) {
      throw new Error(
        `${uri.fsPath} is ${Math.round(stat.size / 1e6)} MB; an exported agent is at most ${AGENT_IMPORT_MAX_BYTES / 1e6} MB. Is it the right file?`,
      );
    }
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new Error(`${uri.fsPath} is not valid JSON (${errorMessage(error)}). Export the agent again with "MemGPT: Export Agent".`);
    }
    const imported = await ctx.runtime.agents.importAgent(data);
    const switchTo =
      args?.switchTo ??
      (args
        ? false
        : (await vscode.window.showInformationMessage(`MemGPT: imported "${imported.name}".`, 'Switch to It')) === 'Switch to It');
    if (switchTo) await ctx.runtime.agents.switchAgent(imported.id);
    return imported;
  } catch (error) {
    await ctx.reportError('Could not import the agent', error);
    return undefined;
  }
}
