/**
 * Which repository and commit an index belongs to, read from git. The repository id is a hash
 * of the normalised origin URL, so every clone of one repository (ssh or https, with or without
 * `.git`, with or without credentials) names the same published index, and the id reveals
 * neither the URL nor any token in it. `--repo-id` or the setting may name it instead.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { TEAM_GIT_TIMEOUT_MS } from '../limits';
import { TeamStoreError } from './teamError';

function git(folder: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', folder, ...args], { timeout: TEAM_GIT_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout.trim());
    });
  });
}

export async function gitHead(folder: string): Promise<string> {
  try {
    const sha = await git(folder, ['rev-parse', 'HEAD']);
    if (/^[0-9a-f]{40,64}$/.test(sha)) return sha;
  } catch {
    // reported below
  }
  throw new TeamStoreError(
    'no_git',
    `${folder} is not a git checkout with a commit (git rev-parse HEAD failed). Publish from a clone, or pass --commit.`,
  );
}

/** `git@host:org/repo.git`, `https://user:token@host/org/repo` … → `host/org/repo`. */
export function normalizeRemoteUrl(url: string): string {
  let s = url.trim();
  const scp = /^[^@/]+@([^:/]+):(.+)$/.exec(s);
  if (scp) s = `${scp[1]}/${scp[2]}`;
  else {
    try {
      const u = new URL(s);
      s = `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
    } catch {
      // a local path: used as it is
    }
  }
  return s
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .toLowerCase();
}

export function repoIdFromRemote(url: string): string {
  return `git-${createHash('sha256').update(normalizeRemoteUrl(url)).digest('hex').slice(0, 16)}`;
}

export async function gitRepoId(folder: string): Promise<string> {
  let url = '';
  try {
    url = await git(folder, ['config', '--get', 'remote.origin.url']);
  } catch {
    // reported below
  }
  if (url === '') {
    throw new TeamStoreError(
      'no_git',
      `${folder} has no git remote "origin" to name the repository by. Pass --repo-id (CI) or set memgpt.index.sharedStore to the repository id.`,
    );
  }
  return repoIdFromRemote(url);
}

/** The setting's value: '' off, 'auto' the id from the origin remote, anything else the id itself. */
export async function resolveRepoId(setting: string, folder: string): Promise<string> {
  const v = setting.trim();
  return v === '' || v === 'auto' ? gitRepoId(folder) : v;
}
