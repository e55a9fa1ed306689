/** Types of productLaunch.mjs, for the unit test that checks it. */
export interface LaunchPlan {
  /** The folder the window opens. */
  workspace: string;
  /** True for this repository's sample-workspace. */
  ownSample: boolean;
  /** The server runs without workspace trust (our sample only). */
  disableWorkspaceTrust: boolean;
}
export function launchPlan(root: string, folderArg: string | undefined): LaunchPlan;
