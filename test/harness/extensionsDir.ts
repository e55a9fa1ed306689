/**
 * A code-server extensions folder holds one folder per extension plus `extensions.json`, the
 * profile's list of installed extensions: VS Code loads what is listed there, not every folder.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileEntry {
  identifier: { id: string };
  version: string;
  location: { $mid: 1; scheme: 'file'; path: string };
  relativeLocation: string;
  metadata?: Record<string, unknown>;
}

/** Adds (or replaces) `id` in extensions.json, keeping every other installed extension. */
export function listInstalledExtension(extensionsDir: string, id: string, version: string, folderName: string): void {
  mkdirSync(extensionsDir, { recursive: true });
  const file = path.join(extensionsDir, 'extensions.json');
  let entries: ProfileEntry[] = [];
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (Array.isArray(parsed)) entries = parsed as ProfileEntry[];
    } catch {
      // A corrupt list is rebuilt with our entry; VS Code rescans the others on the next install.
    }
  }
  entries = entries.filter((e) => e.identifier?.id?.toLowerCase() !== id.toLowerCase());
  entries.push({
    identifier: { id },
    version,
    location: { $mid: 1, scheme: 'file', path: path.join(extensionsDir, folderName) },
    relativeLocation: folderName,
    metadata: { installedTimestamp: Date.now(), source: 'vsix' },
  });
  writeFileSync(file, JSON.stringify(entries));
}

/**
 * Installs an extension folder as a symlink, so the product runs straight from the working tree:
 * rebuild and "Developer: Reload Window" picks the change up, no packaging.
 */
export function linkExtensionFolder(extensionsDir: string, extensionRoot: string): string {
  const manifest = JSON.parse(readFileSync(path.join(extensionRoot, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const id = `${manifest.publisher}.${manifest.name}`;
  const folderName = `${id}-${manifest.version}`;
  mkdirSync(extensionsDir, { recursive: true });
  const link = path.join(extensionsDir, folderName);
  if (existsSync(link) || isDanglingLink(link)) {
    if (!lstatSync(link).isSymbolicLink()) {
      throw new Error(`${link} is a real folder, not the link to ${extensionRoot}; move it away and start again.`);
    }
    rmSync(link);
  }
  symlinkSync(extensionRoot, link, 'dir');
  listInstalledExtension(extensionsDir, id, manifest.version, folderName);
  return id;
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
