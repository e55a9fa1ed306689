/**
 * The folders of src/core from the bottom up. A folder may import from itself and from folders
 * below it, never from one above: so the core has no cycles, and a lower part can be understood
 * (and tested) without the parts built on it. Files directly in src/core (the limits) sit below all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const CORE_LAYERS: readonly string[] = (
  JSON.parse(readFileSync(path.join(__dirname, 'coreLayers.json'), 'utf8')) as { layers: string[] }
).layers;

export interface LayerViolation {
  file: string;
  line: number;
  from: string;
  to: string;
  specifier: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"`])(\.{1,2}\/[^'"`]*)\1/g;

/** The layer of a path relative to the core folder: its first folder, or '' for files at the top. */
function layerOf(relative: string): string {
  const parts = relative.split(/[\\/]/);
  return parts.length > 1 ? parts[0]! : '';
}

function rank(layer: string, layers: readonly string[]): number {
  return layer === '' ? -1 : layers.indexOf(layer);
}

/** Every relative import under `coreDir` that points to a folder above its own (or to an unlisted folder). */
export function findLayerViolations(coreDir: string, layers: readonly string[] = CORE_LAYERS): LayerViolation[] {
  const found: LayerViolation[] = [];
  for (const entry of readdirSync(coreDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|mts|cts|js)$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const from = layerOf(path.relative(coreDir, file));
    const lines = readFileSync(file, 'utf8').split('\n');
    let inBlockComment = false;
    lines.forEach((raw, i) => {
      let text = raw;
      if (inBlockComment) {
        const end = text.indexOf('*/');
        if (end < 0) return;
        text = text.slice(end + 2);
        inBlockComment = false;
      }
      text = text.replace(/\/\*.*?\*\//g, '');
      const open = text.indexOf('/*');
      if (open >= 0) {
        inBlockComment = true;
        text = text.slice(0, open);
      }
      if (/^\s*(\/\/|\*)/.test(text)) return;
      for (const m of text.matchAll(IMPORT)) {
        const specifier = m[2]!;
        const target = path.relative(coreDir, path.resolve(path.dirname(file), specifier));
        if (target.startsWith('..')) continue; // outside the core: the editor-import test covers vscode
        const to = layerOf(target);
        if (to === from) continue;
        const known = (l: string): boolean => l === '' || layers.includes(l);
        if (!known(from) || !known(to) || rank(to, layers) > rank(from, layers)) found.push({ file, line: i + 1, from, to, specifier });
      }
    });
  }
  return found;
}
