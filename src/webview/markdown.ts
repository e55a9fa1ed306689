/**
 * Model text → safe DOM. Markdown by marked, raw HTML never rendered (shown as text), the result
 * sanitised by DOMPurify with a short allow-list, then links rewired: web links go through the
 * host's confirmation, file references become citations, every other scheme is removed.
 * Code is highlighted by highlight.js core with a handful of languages.
 */
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdownLang from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import type { Tokens } from 'marked' with { 'resolution-mode': 'import' };
import { CHAT_MARKDOWN_MAX_CHARS } from '../core/limits';
import { findCitations, formatCitation, type Citation } from './citations';
import { h } from './dom';
import { classifyHref } from './links';

const languages = { bash, css, go, java, javascript, json, markdown: markdownLang, python, rust, typescript, xml };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(['ts', 'tsx', 'mts', 'cts'], { languageName: 'typescript' });
hljs.registerAliases(['js', 'jsx', 'mjs', 'cjs'], { languageName: 'javascript' });
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['rs'], { languageName: 'rust' });
hljs.registerAliases(['md'], { languageName: 'markdown' });
hljs.registerAliases(['html', 'svg', 'xhtml'], { languageName: 'xml' });
hljs.configure({ ignoreUnescapedHTML: true, throwUnescapedHTML: false });

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The language name for the code block's label and class (letters only, so it is safe in a class). */
function languageOf(lang: string | undefined): string | undefined {
  const name = (lang ?? '').trim().split(/\s+/)[0]!.toLowerCase();
  return /^[a-z0-9+#-]{1,20}$/.test(name) ? name : undefined;
}

// marked ships only an ES module, which this CommonJS-typed project cannot `import` statically;
// esbuild bundles the require() below into the webview, and the types come from the ESM entry.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Marked } = require('marked') as typeof import('marked', { with: { 'resolution-mode': 'import' } });
const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  renderer: {
    // No raw HTML at all: a tag in model output is shown as the text the model wrote.
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    // No remote images (the CSP blocks them anyway): an image becomes a link to it.
    image({ href, text }: Tokens.Image): string {
      return `<a href="${escapeHtml(href)}">${escapeHtml(`image: ${text || href}`)}</a>`;
    },
    checkbox({ checked }: Tokens.Checkbox): string {
      return checked ? '☑ ' : '☐ ';
    },
    code({ text, lang }: Tokens.Code): string {
      const language = languageOf(lang);
      const known = language !== undefined && hljs.getLanguage(language) !== undefined;
      const body = known ? hljs.highlight(text, { language: language!, ignoreIllegals: true }).value : escapeHtml(text);
      const cls = `hljs${language ? ` language-${language}` : ''}`;
      return `<pre><code class="${cls}">${body}</code></pre>\n`;
    },
  },
});

const ALLOWED_TAGS = [
  'p',
  'br',
  'hr',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'span',
  'a',
  'ul',
  'ol',
  'li',
  'blockquote',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
];
const purifyConfig = {
  ALLOWED_TAGS,
  ALLOWED_ATTR: ['href', 'class', 'title', 'start', 'align'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  RETURN_DOM_FRAGMENT: true as const,
};

export interface MarkdownOptions {
  /** Single newlines become line breaks, as the user typed them (Shift+Enter) in their own messages. */
  breaks?: boolean;
  /** Adds the Copy / Insert toolbar to a code block. */
  decorateCode?(pre: HTMLPreElement, code: string, language: string | undefined): HTMLElement;
  /**
   * The text may stop mid-word (still streaming, or stopped): a file reference at its very end may
   * be cut ("src/a.ts:4" of "src/a.ts:42-58"), so it stays text instead of linking the wrong lines.
   */
  openEnded?: boolean;
}

/** Renders model text (markdown) into a sanitised fragment. */
export function renderMarkdown(text: string, options: MarkdownOptions = {}): DocumentFragment {
  if (text.length > CHAT_MARKDOWN_MAX_CHARS) {
    const frag = document.createDocumentFragment();
    frag.append(h('pre', { class: 'plain-text', text }));
    return frag;
  }
  // trimEnd: marked ends every block with a newline, which would be a stray text node at the end.
  const html = marked.parse(text, { async: false, breaks: options.breaks ?? false }).trimEnd();
  const frag = DOMPurify.sanitize(html, purifyConfig);
  rewireLinks(frag);
  linkifyCitations(frag);
  if (options.openEnded && endsWithCitation(text)) unlinkLastCitation(frag);
  if (options.decorateCode) {
    for (const pre of Array.from(frag.querySelectorAll('pre'))) {
      const code = pre.querySelector('code');
      const lang = code?.className.match(/language-([^\s]+)/)?.[1];
      // The decorated block adopts `pre`, so hold its place with a marker first.
      const marker = document.createComment('');
      pre.replaceWith(marker);
      marker.replaceWith(options.decorateCode(pre, code?.textContent ?? pre.textContent ?? '', lang));
    }
  }
  return frag;
}

function endsWithCitation(text: string): boolean {
  const trimmed = text.trimEnd();
  const last = findCitations(trimmed).at(-1);
  return last !== undefined && last.end === trimmed.length;
}

function unlinkLastCitation(root: DocumentFragment): void {
  const links = root.querySelectorAll('a.citation');
  const last = links[links.length - 1];
  if (!last) return;
  last.replaceWith(
    h('span', {
      class: 'cut-citation',
      text: last.textContent ?? '',
      attrs: { title: 'Not a link: the answer stopped here, so the line numbers may be cut.' },
    }),
  );
}

export function citationLink(c: Citation, label = formatCitation(c)): HTMLAnchorElement {
  const a = h('a', { class: 'citation', text: label, attrs: { href: '#', title: `Open ${formatCitation(c)}` } });
  a.dataset.path = c.path;
  a.dataset.startLine = String(c.startLine);
  if (c.endLine !== undefined) a.dataset.endLine = String(c.endLine);
  return a;
}

export function externalLink(url: string, label: string): HTMLAnchorElement {
  // href "#", never the URL: VS Code's webview host opens the href of any anchor a user really
  // clicks (its 'did-click-link', whatever our handler's preventDefault), which skipped the confirmation.
  const a = h('a', { class: 'external-link', text: label, attrs: { href: '#', title: `${url} (asks before opening)` } });
  a.dataset.url = url;
  return a;
}

function rewireLinks(root: DocumentFragment): void {
  for (const a of Array.from(root.querySelectorAll('a'))) {
    const href = a.getAttribute('href') ?? '';
    const label = a.textContent ?? '';
    const target = classifyHref(href);
    if (target.kind === 'external') a.replaceWith(externalLink(target.url, label || target.url));
    else if (target.kind === 'citation') a.replaceWith(citationLink(target, label || formatCitation(target)));
    else a.replaceWith(h('span', { class: 'blocked-link', text: label, attrs: { title: `Link removed: ${target.reason}` } }));
  }
}

/** Plain `path:line` text (also inside inline code) becomes a citation link; code blocks are left alone. */
export function linkifyCitations(root: Node): void {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      const parent = node.parentElement;
      if (parent?.closest('a, pre')) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n as Text);
  for (const node of texts) {
    const value = node.data;
    const matches = findCitations(value);
    if (matches.length === 0) continue;
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const m of matches) {
      if (m.start > at) frag.append(value.slice(at, m.start));
      frag.append(citationLink(m, value.slice(m.start, m.end)));
      at = m.end;
    }
    if (at < value.length) frag.append(value.slice(at));
    node.replaceWith(frag);
  }
}
