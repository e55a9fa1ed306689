/**
 * What a link in model output may do. Web and mail links go to the host, which asks the user
 * first; file references open the editor; everything else (javascript:, data:, vbscript:, file:,
 * command:, protocol-relative //host) is dropped. Pure: no DOM.
 */
import { isSafeExternalUrl } from '../protocol';
import { CHAT_PATH_MAX_CHARS, CHAT_URL_MAX_CHARS } from '../core/limits';
import { parseCitation, type Citation } from './citations';

export type LinkTarget = { kind: 'external'; url: string } | ({ kind: 'citation' } & Citation) | { kind: 'blocked'; reason: string };

// Browsers ignore ASCII whitespace and control characters inside a scheme (`java\tscript:`).
const IGNORED_BY_BROWSERS = /[\u0000-\u0020\u007f-\u009f]/g;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

export function classifyHref(href: string): LinkTarget {
  const compact = href.replace(IGNORED_BY_BROWSERS, '');
  if (compact.length === 0) return { kind: 'blocked', reason: 'empty link' };
  if (HAS_SCHEME.test(compact)) {
    const citation = parseCitation(compact);
    // `a.ts:10` has the shape of a scheme too; a path with an extension wins.
    if (citation && !/^[a-z][a-z0-9+.-]*:\/\//i.test(compact) && /\.[A-Za-z]/.test(compact.split(':')[0]!)) {
      return { kind: 'citation', ...citation };
    }
    if (compact.length <= CHAT_URL_MAX_CHARS && isSafeExternalUrl(href.trim())) return { kind: 'external', url: href.trim() };
    return { kind: 'blocked', reason: `links with the scheme "${compact.split(':')[0]!.slice(0, 20)}:" are not opened` };
  }
  if (compact.startsWith('//') || compact.startsWith('\\')) return { kind: 'blocked', reason: 'links to other hosts need https://' };
  if (compact.startsWith('#')) return { kind: 'blocked', reason: 'in-page anchors are not used' };
  const citation = parseCitation(compact);
  if (citation) return { kind: 'citation', ...citation };
  let path = compact.split(/[?#]/)[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    return { kind: 'blocked', reason: 'malformed path' };
  }
  if (path.length === 0 || path.length > CHAT_PATH_MAX_CHARS || path.includes('\0')) return { kind: 'blocked', reason: 'malformed path' };
  return { kind: 'citation', path, startLine: 1 };
}
