/**
 * First run: no model configured. Three ways in: an OpenAI API key (stored in SecretStorage by
 * the host), a local server found on 127.0.0.1 (Ollama, LM Studio), or any OpenAI-compatible base
 * URL. The host validates each with a real request; its error is shown as it comes, in full.
 */
import type { LocalServer, SetupResult, SetupStatus } from '../protocol';
import { h, icon } from './dom';
import type { RequestClient } from './messenger';

function result(el: HTMLElement, r: SetupResult | { ok: false; message: string } | { pending: string }): void {
  el.hidden = false;
  if ('pending' in r) {
    el.className = 'setup-result pending';
    el.setAttribute('role', 'status');
    el.replaceChildren(icon('loading', 'codicon-modifier-spin'), ` ${r.pending}`);
    return;
  }
  el.className = `setup-result ${r.ok ? 'ok' : 'failed'}`;
  el.setAttribute('role', r.ok ? 'status' : 'alert');
  el.replaceChildren(icon(r.ok ? 'pass' : 'error'), ' ', h('span', { text: r.message }));
  // In a short side bar the card scrolls: bring the verdict into view.
  el.scrollIntoView({ block: 'nearest' });
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A base URL the host can try: http(s) with a host. Explains what is wrong otherwise. */
export function checkBaseUrl(raw: string): string | undefined {
  const value = raw.trim();
  if (!value) return 'Enter the server address, e.g. http://127.0.0.1:11434/v1.';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value.slice(0, 80)}" is not a URL. Enter it with its scheme, e.g. http://127.0.0.1:11434/v1.`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `Only http:// and https:// servers can be used (got ${url.protocol}).`;
  return undefined;
}

/**
 * `onConnected` gets the host's confirmation ("Using llama3.1 on http://…"): the card goes away as
 * soon as the setup works, so the chat shows it instead.
 */
export function createSetupCard(
  status: SetupStatus,
  client: RequestClient,
  onConnected: (message: string) => void = () => undefined,
): HTMLElement {
  const settle = (el: HTMLElement, r: SetupResult): void => {
    result(el, r);
    if (r.ok) onConnected(r.message);
  };
  const card = h('section', { class: 'setup-card', attrs: { 'aria-labelledby': 'setup-title' } });
  card.append(
    h('h2', { attrs: { id: 'setup-title' } }, icon('plug'), ' Connect a model'),
    h('p', {
      class: 'setup-intro',
      text: 'MemGPT needs an OpenAI-compatible chat model. Choose one way below; each is checked with a real request before it is saved.',
    }),
  );
  if (status.problem) card.append(h('p', { class: 'setup-problem', attrs: { role: 'alert' } }, icon('warning'), ' ', status.problem));

  // --- VS Code's own model (e.g. Copilot's): first, as it needs nothing ---
  if (status.editorModel) {
    const editorButton = h('button', { class: 'primary-button', attrs: { type: 'button' } }, icon('sparkle'), ` Use ${status.editorModel}`);
    const editorResult = h('div', { class: 'setup-result' });
    editorResult.hidden = true;
    editorButton.addEventListener('click', () => {
      editorButton.disabled = true;
      result(editorResult, { pending: 'Asking VS Code for the model (it may ask you to allow MemGPT)…' });
      client
        .request('useEditorModel', {})
        .then((r) => settle(editorResult, r))
        .catch((e: unknown) => result(editorResult, { ok: false, message: errorMessage(e) }))
        .finally(() => (editorButton.disabled = false));
    });
    card.append(
      h(
        'div',
        { class: 'setup-section' },
        editorButton,
        h('p', { class: 'setup-hint', text: 'VS Code’s own language model: no key or server needed.' }),
        editorResult,
      ),
    );
  }

  // --- API key ---
  const keyInput = h('input', {
    class: 'text-input',
    attrs: { type: 'password', id: 'setup-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'sk-…' },
  });
  const keyButton = h('button', { class: 'primary-button', text: 'Save key', attrs: { type: 'button' } });
  const keyResult = h('div', { class: 'setup-result' });
  keyResult.hidden = true;
  const saveKey = async (): Promise<void> => {
    const key = keyInput.value.trim();
    if (!key) return result(keyResult, { ok: false, message: 'Paste your OpenAI API key first (it starts with "sk-").' });
    keyButton.disabled = true;
    result(keyResult, { pending: 'Checking the key with OpenAI…' });
    try {
      const r = await client.request('saveApiKey', { key });
      settle(keyResult, r);
      if (r.ok) keyInput.value = '';
    } catch (e) {
      result(keyResult, { ok: false, message: errorMessage(e) });
    } finally {
      keyButton.disabled = false;
    }
  };
  keyButton.addEventListener('click', () => void saveKey());
  keyInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void saveKey();
  });
  card.append(
    h(
      'div',
      { class: 'setup-section' },
      h('label', { attrs: { for: 'setup-key' }, text: 'OpenAI API key' }),
      h('div', { class: 'setup-row' }, keyInput, keyButton),
      h('p', { class: 'setup-hint', text: 'Stored in VS Code’s secret storage, never in settings files.' }),
      keyResult,
    ),
  );

  // --- Local servers ---
  const probeButton = h('button', { class: 'secondary-button', attrs: { type: 'button' } }, icon('search'), ' Look for Ollama / LM Studio');
  const probeResult = h('div', { class: 'setup-result' });
  probeResult.hidden = true;
  const servers = h('ul', { class: 'server-list', attrs: { 'aria-label': 'Local model servers found' } });
  const useResult = h('div', { class: 'setup-result' });
  useResult.hidden = true;
  const use = async (baseUrl: string, model: string | undefined, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    result(useResult, { pending: `Checking ${baseUrl}…` });
    try {
      settle(useResult, await client.request('useServer', model ? { baseUrl, model } : { baseUrl }));
    } catch (e) {
      result(useResult, { ok: false, message: errorMessage(e) });
    } finally {
      button.disabled = false;
    }
  };
  const showServers = (found: LocalServer[]): void => {
    servers.replaceChildren();
    if (found.length === 0) {
      result(probeResult, {
        ok: false,
        message:
          'No server answered on 127.0.0.1:11434 (Ollama) or 127.0.0.1:1234 (LM Studio). Start one (for Ollama: `ollama serve`) and look again, or enter its address below.',
      });
      return;
    }
    probeResult.hidden = true;
    for (const server of found) {
      const select = h('select', { class: 'select', attrs: { 'aria-label': `Model on ${server.name}` } });
      for (const m of server.models) select.append(h('option', { text: m, attrs: { value: m } }));
      if (server.models.length === 0) select.append(h('option', { text: '(no models installed)', attrs: { value: '' } }));
      const button = h('button', { class: 'primary-button', text: 'Use', attrs: { type: 'button' } });
      button.addEventListener('click', () => void use(server.baseUrl, select.value || undefined, button));
      servers.append(
        h(
          'li',
          { class: 'server' },
          h(
            'span',
            { class: 'server-name' },
            icon('server'),
            ' ',
            h('strong', { text: server.name }),
            ' ',
            h('code', { text: server.baseUrl }),
          ),
          h('span', { class: 'setup-row' }, select, button),
        ),
      );
    }
  };
  probeButton.addEventListener('click', async () => {
    probeButton.disabled = true;
    result(probeResult, { pending: 'Looking on 127.0.0.1…' });
    try {
      showServers(await client.request('probeLocalServers', {}));
    } catch (e) {
      result(probeResult, { ok: false, message: errorMessage(e) });
    } finally {
      probeButton.disabled = false;
    }
  });
  card.append(
    h(
      'div',
      { class: 'setup-section' },
      h('div', { class: 'setup-heading', text: 'Local server' }),
      probeButton,
      probeResult,
      servers,
      useResult,
    ),
  );

  // --- Any base URL ---
  const urlInput = h('input', {
    class: 'text-input',
    attrs: { type: 'url', id: 'setup-url', spellcheck: 'false', placeholder: 'http://127.0.0.1:11434/v1' },
  });
  const modelInput = h('input', {
    class: 'text-input',
    attrs: { type: 'text', id: 'setup-model', spellcheck: 'false', placeholder: 'model (optional)' },
  });
  const urlButton = h('button', { class: 'primary-button', text: 'Connect', attrs: { type: 'button' } });
  const urlResult = h('div', { class: 'setup-result' });
  urlResult.hidden = true;
  const connect = async (): Promise<void> => {
    const problem = checkBaseUrl(urlInput.value);
    if (problem) return result(urlResult, { ok: false, message: problem });
    const model = modelInput.value.trim();
    urlButton.disabled = true;
    result(urlResult, { pending: `Checking ${urlInput.value.trim()}…` });
    try {
      settle(
        urlResult,
        await client.request('useServer', model ? { baseUrl: urlInput.value.trim(), model } : { baseUrl: urlInput.value.trim() }),
      );
    } catch (e) {
      result(urlResult, { ok: false, message: errorMessage(e) });
    } finally {
      urlButton.disabled = false;
    }
  };
  urlButton.addEventListener('click', () => void connect());
  for (const input of [urlInput, modelInput]) {
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void connect();
    });
  }
  card.append(
    h(
      'div',
      { class: 'setup-section' },
      h('label', { attrs: { for: 'setup-url' }, text: 'OpenAI-compatible server' }),
      h('div', { class: 'setup-row' }, urlInput),
      h('div', { class: 'setup-row' }, modelInput, urlButton),
      urlResult,
    ),
  );
  return card;
}
