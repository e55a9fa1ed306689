/**
 * Draws transcript items into the conversation log and keeps them in sync as they change.
 * Model text goes through `renderMarkdown`; everything else (names, arguments, results, file
 * names) is set as text, never as HTML.
 */
import { CHAT_CARD_RESULT_MAX_CHARS } from '../core/limits';
import type { ApprovalCard, ApprovalDecision, SystemEventKind, TranscriptItem } from '../protocol';
import { append, h, icon, iconButton } from './dom';
import { isHarmlessFailure, parseArguments, parseResult, summarizeCall } from './functionSummary';
import { citationLink, linkifyCitations, renderMarkdown } from './markdown';
import type { TranscriptChange } from './transcript';

/** What the label of an automatic turn's message means, on hover. */
const AUTOMATIC_TITLE =
  'MemGPT wrote this on its own (when the window opened, on a timer or after a file event), not in reply to your last message.';

type Item<K extends TranscriptItem['kind']> = Extract<TranscriptItem, { kind: K }>;

export interface RenderActions {
  copy(text: string): void;
  insert(code: string): void;
  retry(errorItemId: string): void;
  /** The user's answer to an edit or command waiting for approval. */
  approve(approvalId: string, decision: ApprovalDecision, reason?: string): void;
  openDiff(approvalId: string): void;
  restore(checkpointId: string): void;
}

const EVENT_ICONS: Record<SystemEventKind, string> = {
  user_message: 'comment',
  login: 'account',
  system_alert: 'info',
  file_opened: 'go-to-file',
  file_saved: 'save',
  selection_remembered: 'bookmark',
  core_memory_edited_by_user: 'edit',
  heartbeat: 'pulse',
  manual_heartbeat: 'refresh',
  timer: 'clock',
  memory_pressure: 'warning',
  summary: 'fold',
  message_cut: 'warning',
  turn_stopped: 'debug-stop',
};

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>)\]]+/g;

/** Text with each URL in a span that wraps as one piece (the line breaker would split it at "/" or ":"). */
function keepUrlsWhole(text: string): (string | HTMLElement)[] {
  const parts: (string | HTMLElement)[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    if (m.index > at) parts.push(text.slice(at, m.index));
    parts.push(h('span', { class: 'unbroken', text: m[0] }));
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

export class TranscriptView {
  private readonly elements = new Map<string, HTMLElement>();
  /** Cards and thoughts the user opened stay open when their item is redrawn. */
  private readonly expanded = new Set<string>();
  private readonly dirty = new Map<string, TranscriptItem>();
  private frame: number | undefined;

  constructor(
    private readonly container: HTMLElement,
    private readonly actions: RenderActions,
    /** Wraps every DOM change, so the app can keep the log pinned to the bottom across it. */
    private readonly mutate: (change: () => void) => void,
  ) {}

  apply(change: TranscriptChange): void {
    if (change.appended.length > 0) {
      this.mutate(() => {
        for (const item of change.appended) {
          const el = this.render(item);
          this.elements.set(item.id, el);
          this.container.append(el);
        }
      });
    }
    for (const item of change.updated) if (!change.appended.includes(item)) this.dirty.set(item.id, item);
    if (this.dirty.size > 0) this.schedule();
  }

  /** Inserts older items above everything shown (history paging). */
  prepend(items: readonly TranscriptItem[]): void {
    const frag = document.createDocumentFragment();
    for (const item of items) {
      const el = this.render(item);
      this.elements.set(item.id, el);
      frag.append(el);
    }
    this.container.prepend(frag);
  }

  /** Takes items off the log (duplicates the transcript dropped). */
  remove(ids: readonly string[]): void {
    for (const id of ids) {
      this.elements.get(id)?.remove();
      this.elements.delete(id);
      this.dirty.delete(id);
      this.expanded.delete(id);
    }
  }

  /** The element drawn for an item, if it is shown. */
  element(id: string): HTMLElement | undefined {
    return this.elements.get(id);
  }

  /** Redraws pending updates now (the next animation frame would do it otherwise). */
  flush(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    if (this.dirty.size === 0) return;
    this.mutate(() => {
      for (const item of this.dirty.values()) {
        const old = this.elements.get(item.id);
        if (!old) continue;
        const el = this.render(item);
        old.replaceWith(el);
        this.elements.set(item.id, el);
      }
    });
    this.dirty.clear();
  }

  clear(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    this.dirty.clear();
    this.elements.clear();
    this.expanded.clear();
    this.container.replaceChildren();
  }

  private schedule(): void {
    // Streaming deltas arrive faster than frames: coalesce them into one redraw per frame.
    if (this.frame === undefined) this.frame = requestAnimationFrame(() => this.flush());
  }

  private render(item: TranscriptItem): HTMLElement {
    switch (item.kind) {
      case 'user':
        return this.renderUser(item);
      case 'assistant':
        return this.renderAssistant(item);
      case 'monologue':
        return this.renderMonologue(item);
      case 'function':
        return this.renderFunction(item);
      case 'event':
        return this.renderEvent(item);
      case 'error':
        return this.renderError(item);
    }
  }

  private renderUser(item: Item<'user'>): HTMLElement {
    // Markdown too (sanitised like the model's): Ask About Selection quotes the code in a fence.
    const body = h('div', { class: 'msg-body markdown' });
    body.append(renderMarkdown(item.text, { breaks: true }));
    return h('article', { class: 'msg user', attrs: { 'aria-label': 'You said' } }, body);
  }

  private renderAssistant(item: Item<'assistant'>): HTMLElement {
    const body = h('div', { class: 'msg-body markdown' });
    body.append(
      renderMarkdown(item.text, {
        decorateCode: (pre, code, lang) => this.codeBlock(pre, code, lang),
        openEnded: item.state !== 'complete',
      }),
    );
    // A turn nobody asked for (the login at window open, a timer): shown quietly and labelled, so it
    // is not read as the answer to the user's last message.
    const el = item.automatic
      ? h(
          'article',
          { class: `msg automatic ${item.state}`, attrs: { 'aria-label': 'MemGPT said on its own, not in reply to you' } },
          h('div', { class: 'automatic-label', attrs: { title: AUTOMATIC_TITLE } }, icon('sparkle'), ' On its own'),
          body,
        )
      : h('article', { class: `msg assistant ${item.state}`, attrs: { 'aria-label': 'MemGPT said' } }, body);
    if (item.state === 'streaming') {
      el.setAttribute('aria-busy', 'true');
      if (!item.text) body.append(h('span', { class: 'typing', text: 'MemGPT is writing…' }));
    }
    if (item.state === 'partial') {
      el.append(h('div', { class: 'partial-note', attrs: { role: 'note' } }, icon('debug-stop'), ' Stopped: this answer is incomplete.'));
    }
    return el;
  }

  private codeBlock(pre: HTMLPreElement, code: string, lang: string | undefined): HTMLElement {
    const copy = iconButton('copy', 'Copy code');
    copy.addEventListener('click', () => {
      this.actions.copy(code);
      copy.replaceChildren(icon('check'));
      copy.setAttribute('aria-label', 'Copied');
      setTimeout(() => {
        copy.replaceChildren(icon('copy'));
        copy.setAttribute('aria-label', 'Copy code');
      }, 1500);
    });
    const insert = iconButton('insert', 'Insert at cursor');
    insert.addEventListener('click', () => this.actions.insert(code));
    const bar = h('div', { class: 'code-toolbar' }, h('span', { class: 'code-lang', text: lang ?? '' }), copy, insert);
    return h('div', { class: 'code-block' }, bar, pre);
  }

  private toggle(id: string, header: HTMLElement, body: HTMLElement): void {
    const open = this.expanded.has(id);
    header.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
    header.addEventListener('click', () => {
      const now = !this.expanded.has(id);
      if (now) this.expanded.add(id);
      else this.expanded.delete(id);
      header.setAttribute('aria-expanded', String(now));
      body.hidden = !now;
      header.querySelector('.chevron')?.classList.toggle('codicon-chevron-down', now);
      header.querySelector('.chevron')?.classList.toggle('codicon-chevron-right', !now);
    });
  }

  private chevron(id: string): HTMLElement {
    return icon(this.expanded.has(id) ? 'chevron-down' : 'chevron-right', 'chevron');
  }

  private renderMonologue(item: Item<'monologue'>): HTMLElement {
    const bodyId = `body-${item.id}`;
    const preview = item.text.replace(/\s+/g, ' ').trim();
    const header = h(
      'button',
      { class: 'thinking-header', attrs: { type: 'button', 'aria-controls': bodyId } },
      this.chevron(item.id),
      icon(item.streaming ? 'loading' : 'lightbulb', item.streaming ? 'codicon-modifier-spin' : ''),
      h('span', { class: 'thinking-label', text: item.streaming ? 'Thinking…' : 'Thought' }),
      h('span', { class: 'thinking-preview', text: preview }),
    );
    const body = h('div', { class: 'thinking-body', text: item.text, attrs: { id: bodyId } });
    this.toggle(item.id, header, body);
    return h('div', { class: item.automatic ? 'thinking automatic' : 'thinking' }, header, body);
  }

  private renderFunction(item: Item<'function'>): HTMLElement {
    const summary = summarizeCall(item.name, item.arguments);
    const bodyId = `body-${item.id}`;
    // A search that found nothing is not a failure the user must act on: quiet, not red.
    const quiet = item.status === 'Failed' && item.result !== null && isHarmlessFailure(item.name, parseResult(item.result).message);
    const look = quiet ? 'empty' : item.status;
    const statusText = { running: 'running', OK: 'done', Failed: 'failed', cancelled: 'stopped', empty: 'found nothing' }[look];
    const statusIcon = { running: 'loading', OK: 'check', Failed: 'error', cancelled: 'circle-slash', empty: 'circle-small' }[look];
    const count = item.count && item.count > 1 ? item.count : 0;
    const header = h(
      'button',
      // The whole line on hover: narrow side bars cut the title.
      {
        class: 'card-header',
        attrs: { type: 'button', 'aria-controls': bodyId, title: count ? `${summary.title} (${count} times)` : summary.title },
      },
      this.chevron(item.id),
      icon(summary.icon),
      h('span', { class: 'card-title', text: summary.title }),
      count ? h('span', { class: 'card-count', text: `×${count}`, attrs: { 'aria-label': `${count} times` } }) : null,
      h(
        'span',
        { class: `card-status status-${look}`, attrs: { 'aria-label': `status: ${statusText}` } },
        icon(statusIcon, item.status === 'running' ? 'codicon-modifier-spin' : ''),
      ),
    );
    const args = parseArguments(item.arguments);
    const argsText = args ? JSON.stringify(args, null, 2) : item.arguments;
    const body = h(
      'div',
      { class: 'card-body', attrs: { id: bodyId } },
      // Expanded, the title is shown whole (the header line may have cut it).
      h('div', { class: 'card-full-title', text: summary.title }),
      h('div', { class: 'card-label', text: 'Function' }),
      h('code', { class: 'card-name', text: item.name }),
      summary.citation ? h('div', { class: 'card-citation' }, citationLink(summary.citation)) : null,
      h('div', { class: 'card-label', text: 'Arguments' }),
      h('pre', { class: 'card-pre', text: argsText }),
    );
    if (item.result !== null) {
      const parsed = parseResult(item.result);
      const shown =
        parsed.message.length > CHAT_CARD_RESULT_MAX_CHARS
          ? `${parsed.message.slice(0, CHAT_CARD_RESULT_MAX_CHARS)}\n… (${parsed.message.length - CHAT_CARD_RESULT_MAX_CHARS} more characters not shown)`
          : parsed.message;
      // Not a <pre>: search results name files, and those citations should be links.
      const resultEl = h('div', { class: 'card-pre result', text: shown });
      linkifyCitations(resultEl);
      append(body, h('div', { class: 'card-label', text: 'Result' }), resultEl);
    }
    this.toggle(item.id, header, body);
    // Outside the collapsible body: a question, live output and Restore must be seen without a click.
    const output = item.output ? h('pre', { class: 'card-output', text: item.output, attrs: { 'aria-label': 'Command output' } }) : null;
    const restore = item.checkpointId ? this.renderRestore(item.checkpointId) : null;
    const approval = item.approval ? this.renderApproval(item.approval) : null;
    return h(
      'div',
      { class: `card status-${look}${item.automatic ? ' automatic' : ''}`, attrs: { 'data-function': item.name } },
      header,
      approval,
      output,
      restore,
      body,
    );
  }

  private renderApproval(card: ApprovalCard): HTMLElement {
    const box = h('div', { class: 'approval', attrs: { role: 'group', 'aria-label': 'Approval', 'data-approval': card.id } });
    const reason = h('input', {
      class: 'approval-reason',
      attrs: { type: 'text', placeholder: 'Reason (optional, the agent reads it)', 'aria-label': 'Reason for rejecting' },
    });
    const button = (label: string, cls: string, onClick: () => void): HTMLButtonElement => {
      const b = h('button', { class: `approval-button ${cls}`, text: label, attrs: { type: 'button' } });
      b.addEventListener('click', () => {
        // One answer per card: the buttons go quiet until the host closes it.
        for (const el of box.querySelectorAll('button')) el.disabled = true;
        onClick();
      });
      return b;
    };
    const accept = button('Accept', 'accept', () => this.actions.approve(card.id, 'accept'));
    const reject = button('Reject', 'reject', () => this.actions.approve(card.id, 'reject', reason.value.trim() || undefined));
    switch (card.kind) {
      case 'edit':
      case 'write': {
        const verb = card.kind === 'edit' ? 'Edit' : card.existed ? 'Overwrite' : 'Create';
        const diff = h('pre', { class: 'approval-diff' });
        for (const line of card.diff.split('\n')) {
          const cls =
            line.startsWith('+') && !line.startsWith('+++')
              ? 'diff-add'
              : line.startsWith('-') && !line.startsWith('---')
                ? 'diff-del'
                : line.startsWith('@@')
                  ? 'diff-hunk'
                  : '';
          diff.append(h('span', { class: cls, text: `${line}\n` }));
        }
        const open = h('button', { class: 'text-button approval-open-diff', text: 'Open diff', attrs: { type: 'button' } });
        open.addEventListener('click', () => this.actions.openDiff(card.id));
        append(
          box,
          h('div', { class: 'approval-title', text: `${verb} ${card.path}? (+${card.added} −${card.removed} lines)` }),
          diff,
          card.diffCut ? h('div', { class: 'approval-note', text: 'The diff is cut here; Open diff shows all of it.' }) : null,
          h('div', { class: 'approval-actions' }, accept, reject, open),
          reason,
        );
        return box;
      }
      case 'command': {
        const always = card.suggestedPrefix
          ? button(`Always allow commands starting with "${card.suggestedPrefix}"`, 'always', () => this.actions.approve(card.id, 'always'))
          : null;
        append(
          box,
          h('div', { class: 'approval-title', text: `Run this command in ${card.cwd}?` }),
          h('pre', { class: 'approval-command', text: `$ ${card.command}` }),
          card.withheldVariables.length > 0
            ? h('div', { class: 'approval-note', text: `Runs without: ${card.withheldVariables.join(', ')}` })
            : null,
          card.shellSyntax.length > 0
            ? h('div', {
                class: 'approval-note',
                text: `It uses ${card.shellSyntax.join(' ')}: chained, piped or redirected commands always ask.`,
              })
            : null,
          h('div', { class: 'approval-actions' }, accept, reject, always),
          reason,
        );
        return box;
      }
      case 'tool': {
        const always = button(`Always allow ${card.tool} (this session)`, 'always', () => this.actions.approve(card.id, 'always'));
        append(
          box,
          h('div', { class: 'approval-title', text: `Call tool "${card.tool}" of MCP server "${card.server}"?` }),
          h('pre', { class: 'approval-command', text: card.arguments }),
          h('div', {
            class: 'approval-note',
            text: `Configured in ${card.source}${card.readOnlyHint ? '; the server says this tool only reads' : ''}.${card.argumentsCut ? ' The arguments are cut here.' : ''}`,
          }),
          h('div', { class: 'approval-actions' }, accept, reject, always),
          reason,
        );
        return box;
      }
    }
  }

  private renderRestore(checkpointId: string): HTMLElement {
    const button = h(
      'button',
      { class: 'text-button restore-button', attrs: { type: 'button', 'data-checkpoint': checkpointId } },
      icon('history'),
      ' Restore files',
    );
    button.addEventListener('click', () => {
      button.disabled = true;
      this.actions.restore(checkpointId);
    });
    return h(
      'div',
      { class: 'restore' },
      button,
      h('span', { class: 'restore-note', text: 'Brings back the files as they were before this turn. What commands did is not undone.' }),
    );
  }

  private renderEvent(item: Item<'event'>): HTMLElement {
    const text = h('span', { class: 'chip-text', text: item.text, attrs: { title: item.text } });
    linkifyCitations(text);
    const tone = item.event === 'memory_pressure' ? ' warning' : '';
    return h(
      'div',
      { class: `chip${tone}`, attrs: { role: 'note', 'data-event': item.event } },
      icon(EVENT_ICONS[item.event] ?? 'info'),
      text,
    );
  }

  private renderError(item: Item<'error'>): HTMLElement {
    const el = h(
      'div',
      { class: 'error-item', attrs: { role: 'alert' } },
      icon('error'),
      h('span', { class: 'error-text' }, ...keepUrlsWhole(item.message)),
    );
    if (item.recoverable && !item.retried) {
      const retry = h('button', { class: 'text-button', attrs: { type: 'button' } }, icon('refresh'), ' Retry');
      retry.addEventListener('click', () => this.actions.retry(item.id));
      el.append(retry);
    }
    return el;
  }
}
