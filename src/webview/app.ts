/**
 * The chat view: toolbar (agent picker, context meter, clear), conversation log, setup card or
 * "agent not running" notice, composer (Enter sends, Shift+Enter newline, Stop while busy).
 * Speaks only the protocol; every string from the host is rendered as text or sanitised markdown.
 */
import type { AgentEvent, ContextUsage } from '../core/agent/events';
import {
  CHAT_ACTION_NOTE_MS,
  CHAT_COMPOSER_MAX_HEIGHT_PX,
  CHAT_HISTORY_PAGE_SIZE,
  CHAT_LOAD_OLDER_THRESHOLD_PX,
  CHAT_MESSAGE_MAX_CHARS,
  CHAT_REVEAL_MAX_PAGES,
} from '../core/limits';
import {
  dispatch,
  type HostToWebview,
  type HostToWebviewMessages,
  type MessageHandlers,
  type TranscriptItem,
  type ViewState,
  type WebviewToHost,
} from '../protocol';
import { createWelcome } from './welcome';
import { h, icon, iconButton } from './dom';
import { createMeter } from './meter';
import { RequestClient } from './messenger';
import { TranscriptView } from './render';
import { createSetupCard } from './setup';
import { isAutomatic, Transcript } from './transcript';

export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

interface SavedState {
  draft?: string;
}

export class ChatApp {
  private readonly client: RequestClient;
  private readonly transcript = new Transcript();
  private readonly view: TranscriptView;
  private state: ViewState | null = null;
  /** The usage the meter shows, and whose it is. */
  private shownUsage: ContextUsage | null = null;
  private shownUsageAgent: string | null = null;
  private busy = false;
  private loadingOlder = false;
  private historyLoaded = false;
  /** The draft restored from saved webview state, until the first history page was checked against it. */
  private restoredDraft = '';
  /**
   * Ids of live system-event items shown before the newest history page arrived: the page may hold
   * them too. Collecting starts at once, as events can arrive before the first state does.
   */
  private liveDuringLoad: string[] | null = [];
  private setupShownFor = '';
  /** Settles when the newest history page was shown (or failed): a reveal waits for it. */
  private firstPageShown!: Promise<void>;
  private markFirstPageShown!: () => void;

  private readonly agentPicker = h('select', { class: 'select agent-picker', attrs: { 'aria-label': 'Agent' } });
  private readonly meter = createMeter(() => this.post({ type: 'showCoreMemory', payload: {} }));
  private readonly clearButton = iconButton('clear-all', 'Clear view (memory is kept)');
  private readonly notice = h('div', { class: 'notice', attrs: { role: 'status' } });
  private readonly setup = h('div', { class: 'setup-host' });
  private readonly loadOlder = h(
    'button',
    { class: 'text-button load-older', attrs: { type: 'button' } },
    icon('fold-up'),
    ' Load older messages',
  );
  private readonly items = h('div', { class: 'items' });
  private readonly empty = createWelcome({
    ask: (prompt) => this.sendText(prompt),
    openTool: (tool) => this.post({ type: 'openTool', payload: { tool } }),
  });
  /** Clear view asks first: the conversation leaves the view (memory keeps it). */
  private readonly clearConfirm = h('div', { class: 'clear-confirm', attrs: { role: 'alertdialog', 'aria-label': 'Clear the view?' } });
  /** Why something the user clicked (Insert, a citation) did not work; fades after a while. */
  private readonly actionNote = h('div', { class: 'action-note', attrs: { role: 'alert' } });
  private actionNoteTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly log = h('div', {
    class: 'log',
    attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation', tabindex: '0' },
  });
  private readonly status = h('div', { class: 'sr-only', attrs: { role: 'status', 'aria-live': 'polite' } });
  /** "Waiting for the model at …" / "Retrying in …": status text, gone once the reply starts. */
  private readonly modelWait = h('div', { class: 'model-wait', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly input = h('textarea', {
    class: 'composer-input',
    // Short enough for one line in a narrow side bar; the key hint is in the tooltip.
    attrs: { rows: '1', 'aria-label': 'Message MemGPT', placeholder: 'Ask MemGPT…', title: 'Enter sends; Shift+Enter starts a new line' },
  });
  private readonly sendButton = iconButton('send', 'Send (Enter)', 'send-button');
  private readonly stopButton = iconButton('debug-stop', 'Stop', 'stop-button');

  constructor(
    private readonly root: HTMLElement,
    private readonly api: VsCodeApi,
  ) {
    this.client = new RequestClient((m) => api.postMessage(m));
    this.firstPageShown = new Promise((resolve) => (this.markFirstPageShown = resolve));
    this.view = new TranscriptView(
      this.items,
      {
        copy: (text) => this.post({ type: 'copyToClipboard', payload: { text } }),
        insert: (code) => this.post({ type: 'insertAtCursor', payload: { code } }),
        retry: (id) => {
          this.view.apply(this.transcript.markRetried(id));
          this.setBusy(true);
          this.post({ type: 'retry', payload: {} });
        },
        approve: (id, decision, reason) => this.post({ type: 'approve', payload: { id, decision, ...(reason ? { reason } : {}) } }),
        openDiff: (id) => this.post({ type: 'openDiff', payload: { id } }),
        restore: (checkpointId) => this.post({ type: 'restoreCheckpoint', payload: { checkpointId } }),
      },
      (change) => {
        // Measured before the change: follow new output only if the user was already at the bottom.
        const stick = this.atBottom();
        change();
        if (stick) this.scrollToBottom();
      },
    );
    this.build();
    const saved = api.getState() as SavedState | undefined;
    if (saved && typeof saved.draft === 'string') this.input.value = saved.draft;
    this.restoredDraft = this.input.value.trim();
  }

  start(): void {
    window.addEventListener('message', (e: MessageEvent<HostToWebview>) => this.receive(e.data));
    this.post({ type: 'ready', payload: {} });
  }

  private post(message: WebviewToHost): void {
    this.api.postMessage(message);
  }

  private build(): void {
    this.agentPicker.hidden = true;
    this.agentPicker.addEventListener('change', () => this.post({ type: 'switchAgent', payload: { agentId: this.agentPicker.value } }));
    this.clearButton.addEventListener('click', () => this.askClearView());
    const toolbar = h(
      'header',
      { class: 'toolbar' },
      this.agentPicker,
      this.meter.element,
      h('span', { class: 'spacer' }),
      this.clearButton,
    );

    this.notice.hidden = true;
    this.loadOlder.hidden = true;
    this.loadOlder.addEventListener('click', () => void this.loadOlderHistory());
    this.log.append(this.loadOlder, this.items, this.empty);
    this.log.addEventListener('scroll', () => {
      if (this.log.scrollTop < CHAT_LOAD_OLDER_THRESHOLD_PX) void this.loadOlderHistory();
    });
    this.log.addEventListener('click', (e) => this.onLinkClick(e));
    this.log.addEventListener('auxclick', (e) => this.onLinkClick(e));

    this.input.maxLength = CHAT_MESSAGE_MAX_CHARS;
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      } else if (e.key === 'Escape' && this.busy) {
        e.preventDefault();
        this.stop();
      }
    });
    this.input.addEventListener('input', () => {
      this.autosize();
      this.api.setState({ draft: this.input.value } satisfies SavedState);
    });
    this.sendButton.addEventListener('click', () => this.send());
    this.stopButton.addEventListener('click', () => this.stop());
    this.stopButton.hidden = true;
    const composer = h('footer', { class: 'composer' }, this.input, this.sendButton, this.stopButton);

    this.modelWait.hidden = true;
    this.clearConfirm.hidden = true;
    this.actionNote.hidden = true;
    this.root.replaceChildren(
      toolbar,
      this.clearConfirm,
      this.notice,
      this.setup,
      this.log,
      this.modelWait,
      this.actionNote,
      this.status,
      composer,
    );
    this.autosize();
  }

  /** What each message from the host does (a message type without a handler is a compile error). */
  private readonly handlers: MessageHandlers<HostToWebviewMessages> = {
    state: (payload) => this.applyState(payload),
    agentEvent: (payload) => this.onAgentEvent(payload.event),
    response: (payload) => this.client.settle(payload),
    historyReset: () => {
      this.resetConversation();
      void this.loadHistory();
    },
    userMessage: (payload) => {
      this.view.apply(this.transcript.addUser(payload.text));
      this.setBusy(true);
      this.updateEmpty();
      this.scrollToBottom();
    },
    approval: (payload) => {
      this.view.apply(this.transcript.setApproval(payload));
      this.scrollToBottom();
    },
    approvalClosed: (payload) => this.view.apply(this.transcript.closeApproval(payload.id)),
    actionFailed: (payload) => this.showActionNote(payload.message),
    revealMessage: (payload) => void this.reveal(payload.recordId, payload.seq),
  };

  private receive(message: HostToWebview): void {
    // The host is trusted, but a message of a type this view does not know (an older view after
    // an update) is ignored rather than thrown on.
    if (typeof message !== 'object' || message === null || !Object.hasOwn(this.handlers, message.type)) return;
    void dispatch(this.handlers, message);
  }

  private applyState(state: ViewState): void {
    const first = this.state === null;
    this.state = state;
    // Agent picker, only when there is a choice.
    this.agentPicker.hidden = state.agents.length < 2;
    this.agentPicker.replaceChildren(
      ...state.agents.map((a) => {
        const o = h('option', { text: a.name, attrs: { value: a.id } });
        o.selected = a.id === state.activeAgentId;
        return o;
      }),
    );
    // A restarted runtime (the folder was just trusted) has not measured yet: the same agent's last
    // figures stay until new ones come, instead of an empty bar.
    const previous = first ? null : this.shownUsage;
    const sameAgent = !first && previous !== null && this.shownUsageAgent === state.activeAgentId;
    const usage = state.usage ?? (sameAgent ? previous : null);
    this.shownUsage = usage;
    this.shownUsageAgent = state.activeAgentId;
    this.meter.update(usage);
    this.setBusy(state.busy);

    const ready = state.backend === 'ready';
    this.notice.hidden = ready && !state.notice;
    if (!ready) this.notice.replaceChildren(icon('warning'), ' ', h('span', { text: state.notice ?? 'The MemGPT agent is not running.' }));
    else if (state.notice) this.notice.replaceChildren(icon('info'), ' ', h('span', { text: state.notice }));

    const needsSetup = ready && !state.setup.configured;
    const setupKey = needsSetup ? JSON.stringify(state.setup) : '';
    if (setupKey !== this.setupShownFor) {
      // Rebuilt only when the status changes, so typing in the card is not lost on busy/usage updates.
      this.setupShownFor = setupKey;
      this.setup.replaceChildren(needsSetup ? createSetupCard(state.setup, this.client, (message) => this.connected(message)) : '');
    }
    this.setup.hidden = !needsSetup;
    this.input.disabled = !ready || needsSetup;
    this.sendButton.disabled = this.input.disabled;
    this.clearButton.disabled = !ready;
    this.updateEmpty();
    if (ready && (first || !this.historyLoaded)) void this.loadHistory();
  }

  private onAgentEvent(event: AgentEvent): void {
    if (event.type === 'model_wait') {
      this.modelWait.replaceChildren(icon('loading', 'codicon-modifier-spin'), ' ', h('span', { text: event.text }));
      this.modelWait.hidden = false;
      return;
    }
    // Anything else of the turn (output, an error, the end) means the wait is over.
    if (event.type !== 'step_started') this.modelWait.hidden = true;
    if (event.type === 'context_usage') {
      if (this.state) this.state.usage = event.usage;
      this.shownUsage = event.usage;
      this.meter.update(event.usage);
      return;
    }
    if (event.type === 'step_started') this.setBusy(true);
    const change = this.transcript.apply(event);
    if (this.liveDuringLoad && event.type === 'system_event') this.liveDuringLoad.push(...change.appended.map((i) => i.id));
    this.view.apply(change);
    if (event.type === 'message_complete') {
      // A turn nobody asked for (a greeting when the window opened) is not announced as an answer.
      const own = [...change.appended, ...change.updated].some(isAutomatic);
      this.announce(
        own
          ? 'MemGPT wrote on its own, not in reply to you.'
          : event.partial
            ? 'MemGPT stopped; the answer is incomplete.'
            : 'MemGPT answered.',
      );
    }
    if (event.type === 'turn_finished') {
      this.setBusy(false);
      if (event.reason === 'step_limit') this.announce('MemGPT stopped after too many steps in a row.');
    }
    if (event.type === 'error') this.announce(`Error: ${event.message}`);
    this.updateEmpty();
  }

  /** The setup card worked and is about to go: its confirmation stays in the conversation. */
  private connected(message: string): void {
    this.view.apply(this.transcript.apply({ type: 'system_event', kind: 'system_alert', text: message }));
    this.announce(message);
    this.updateEmpty();
  }

  private send(): void {
    const text = this.input.value;
    if (!text.trim() || this.input.disabled) return;
    this.sendText(text);
    this.input.value = '';
    this.api.setState({ draft: '' } satisfies SavedState);
    this.autosize();
  }

  private sendText(text: string): void {
    if (this.input.disabled) return;
    this.view.apply(this.transcript.addUser(text));
    this.post({ type: 'send', payload: { text } });
    this.setBusy(true);
    this.updateEmpty();
    this.scrollToBottom();
  }

  private stop(): void {
    this.post({ type: 'stop', payload: {} });
    // The partial answer stays as it is now; later deltas of the cancelled call do not grow it.
    this.view.apply(this.transcript.stopStreaming('partial'));
    this.view.flush();
    this.setBusy(false);
    this.announce('Stopped.');
    this.input.focus();
  }

  private askClearView(): void {
    const clear = h('button', { class: 'primary-button', text: 'Clear', attrs: { type: 'button' } });
    const cancel = h('button', { class: 'secondary-button', text: 'Cancel', attrs: { type: 'button' } });
    const close = (): void => {
      this.clearConfirm.hidden = true;
      this.clearConfirm.replaceChildren();
      this.clearButton.focus();
    };
    clear.addEventListener('click', () => {
      close();
      this.clearView();
    });
    cancel.addEventListener('click', close);
    this.clearConfirm.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') close();
    });
    this.clearConfirm.replaceChildren(
      h('span', { class: 'clear-confirm-text', text: 'Clear the view? MemGPT’s memory keeps everything; Search Memory still finds it.' }),
      h('span', { class: 'clear-confirm-actions' }, clear, cancel),
    );
    this.clearConfirm.hidden = false;
    clear.focus();
  }

  private showActionNote(message: string): void {
    if (this.actionNoteTimer !== undefined) clearTimeout(this.actionNoteTimer);
    const dismiss = iconButton('close', 'Dismiss');
    dismiss.addEventListener('click', () => {
      this.actionNote.hidden = true;
    });
    this.actionNote.replaceChildren(icon('warning'), h('span', { class: 'action-note-text', text: message }), dismiss);
    this.actionNote.hidden = false;
    this.actionNoteTimer = setTimeout(() => {
      this.actionNote.hidden = true;
    }, CHAT_ACTION_NOTE_MS);
  }

  /** Scrolls to the item of a recall record, loading older pages until it is there (a bounded number). */
  private async reveal(recordId: string, seq: number): Promise<void> {
    await this.firstPageShown;
    for (let pages = 0; pages < CHAT_REVEAL_MAX_PAGES; pages++) {
      const id = this.transcript.itemForRecord(recordId);
      const el = id ? this.view.element(id) : undefined;
      if (el) {
        el.scrollIntoView({ block: 'center' });
        el.classList.add('revealed');
        setTimeout(() => el.classList.remove('revealed'), CHAT_ACTION_NOTE_MS);
        return;
      }
      if (!this.transcript.hasOlder || this.transcript.oldestSeq === null || this.transcript.oldestSeq <= seq) break;
      await this.loadOlderHistory();
    }
    this.showActionNote('That message is not in the chat any more (the view was cleared after it). Search Memory still finds it.');
  }

  private clearView(): void {
    this.resetConversation();
    this.historyLoaded = true;
    this.post({ type: 'clearView', payload: {} });
    this.announce('View cleared. MemGPT’s memory is kept.');
  }

  private resetConversation(): void {
    this.transcript.clear();
    this.view.clear();
    this.loadOlder.hidden = true;
    this.historyLoaded = false;
    this.updateEmpty();
  }

  private async loadHistory(): Promise<void> {
    this.historyLoaded = true;
    const live = this.liveDuringLoad ?? [];
    this.liveDuringLoad = live;
    try {
      const page = await this.client.request('history', { beforeSeq: null, limit: CHAT_HISTORY_PAGE_SIZE });
      const { prepended } = this.transcript.prependHistory(page.records, page.hasMore, page.outcomes, page.newestSeq);
      this.view.remove(this.transcript.dropEchoedEvents(live, prepended));
      this.view.prepend(prepended);
      this.loadOlder.hidden = !page.hasMore;
      this.dropSentDraft(prepended);
      this.updateEmpty();
      this.scrollToBottom();
    } catch (e) {
      this.historyLoaded = false;
      this.showLogError(`Could not load the conversation history: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (this.liveDuringLoad === live) this.liveDuringLoad = null;
      this.markFirstPageShown();
    }
  }

  /**
   * VS Code persists webview state lazily, so a reload right after sending can restore the sent
   * message as a draft (the clearing setState was not saved yet). A restored draft that is already
   * in the conversation was sent: drop it.
   */
  private dropSentDraft(items: readonly TranscriptItem[]): void {
    const draft = this.restoredDraft;
    this.restoredDraft = '';
    if (!draft || this.input.value.trim() !== draft) return;
    if (!items.some((i) => i.kind === 'user' && i.text.trim() === draft)) return;
    this.input.value = '';
    this.api.setState({ draft: '' } satisfies SavedState);
    this.autosize();
  }

  private async loadOlderHistory(): Promise<void> {
    if (this.loadingOlder || !this.transcript.hasOlder || this.transcript.oldestSeq === null) return;
    this.loadingOlder = true;
    this.loadOlder.disabled = true;
    try {
      const page = await this.client.request('history', { beforeSeq: this.transcript.oldestSeq, limit: CHAT_HISTORY_PAGE_SIZE });
      // Keep what the user is looking at in place while older items appear above it.
      const fromBottom = this.log.scrollHeight - this.log.scrollTop;
      const { prepended } = this.transcript.prependHistory(page.records, page.hasMore, page.outcomes);
      this.view.prepend(prepended);
      this.log.scrollTop = this.log.scrollHeight - fromBottom;
      this.loadOlder.hidden = !page.hasMore;
      if (prepended.length > 0) this.announce(`Loaded ${prepended.length} older items.`);
    } catch (e) {
      this.showLogError(`Could not load older messages: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.loadingOlder = false;
      this.loadOlder.disabled = false;
    }
  }

  private showLogError(message: string): void {
    this.view.apply(this.transcript.apply({ type: 'error', message, recoverable: false }));
  }

  private onLinkClick(e: MouseEvent): void {
    const target = e.target instanceof Element ? e.target.closest('a') : null;
    if (!target) return;
    e.preventDefault();
    if (e.type === 'auxclick' && e.button !== 1) return;
    if (target.classList.contains('citation')) {
      const path = target.dataset.path;
      const startLine = Number(target.dataset.startLine);
      const endLine = target.dataset.endLine === undefined ? undefined : Number(target.dataset.endLine);
      if (!path || !Number.isInteger(startLine)) return;
      this.post({ type: 'openCitation', payload: endLine === undefined ? { path, startLine } : { path, startLine, endLine } });
    } else if (target.classList.contains('external-link') && target.dataset.url) {
      this.post({ type: 'openExternal', payload: { url: target.dataset.url } });
    }
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.stopButton.hidden = !busy;
    this.sendButton.hidden = busy;
  }

  private autosize(): void {
    this.input.style.height = 'auto';
    // scrollHeight leaves out the border; with border-box sizing the box needs it back, or an empty
    // input overflows by the border's width and shows a scrollbar.
    const border = this.input.offsetHeight - this.input.clientHeight;
    this.input.style.height = `${Math.min(this.input.scrollHeight + border, CHAT_COMPOSER_MAX_HEIGHT_PX)}px`;
    this.input.classList.toggle('scrolls', this.input.scrollHeight + border > CHAT_COMPOSER_MAX_HEIGHT_PX);
  }

  private atBottom(): boolean {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < CHAT_LOAD_OLDER_THRESHOLD_PX;
  }

  private scrollToBottom(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private updateEmpty(): void {
    // Chips about files opened or saved, and a turn nobody asked for (a greeting when the window
    // opened), do not make a conversation: the welcome stays until one starts.
    const talked = this.transcript.items.some((i) => i.kind !== 'event' && !isAutomatic(i));
    this.empty.hidden = talked || this.state?.backend !== 'ready' || !this.setup.hidden;
  }

  private announce(text: string): void {
    this.status.textContent = text;
  }
}
