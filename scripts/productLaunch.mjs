// What `npm start` opens and how: the folder, and whether VS Code's workspace trust is on.
// Kept apart from start.mjs (which installs, builds and runs) so a unit test can check it.
import { realpathSync } from 'node:fs';
import path from 'node:path';

function canonical(folder) {
  try {
    return realpathSync(folder);
  } catch {
    return path.resolve(folder);
  }
}

/**
 * `npm start` alone opens our own sample workspace, trusted: it is ours, and a newcomer's first
 * sight should be MemGPT, not a Restricted Mode banner. A folder the user passes opens with
 * workspace trust on, so VS Code asks before trusting it and MemGPT runs restricted until then.
 * (The web workbench keeps trusted folders in the browser's storage, which the server cannot
 * seed; trust is therefore decided per server, and the sample's server has it off.)
 *
 * @param {string} root the repository folder
 * @param {string | undefined} folderArg the folder after `npm start --`, if any
 * @returns {{ workspace: string, ownSample: boolean, disableWorkspaceTrust: boolean }}
 */
export function launchPlan(root, folderArg) {
  const sample = path.join(root, 'sample-workspace');
  const workspace = path.resolve(folderArg ?? sample);
  const ownSample = canonical(workspace) === canonical(sample);
  return { workspace, ownSample, disableWorkspaceTrust: ownSample };
}
