/**
 * VS Code-like theme variables (values from the default Light+, Dark+ and High Contrast themes),
 * as VS Code injects them into a webview. Only the variables the chat uses.
 */
export type ThemeName = 'light' | 'dark' | 'hc';

const shared = `
  --vscode-font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Ubuntu", "Droid Sans", sans-serif;
  --vscode-font-size: 13px;
  --vscode-font-weight: normal;
  --vscode-editor-font-family: "Droid Sans Mono", "monospace", monospace;
  --vscode-editor-font-size: 12px;
`;

const light = `
  --vscode-foreground: #616161;
  --vscode-descriptionForeground: #717171;
  --vscode-errorForeground: #a1260d;
  --vscode-focusBorder: #0090f1;
  --vscode-icon-foreground: #424242;
  --vscode-sideBar-background: #f3f3f3;
  --vscode-editor-background: #ffffff;
  --vscode-editorWidget-background: #f3f3f3;
  --vscode-widget-border: #d4d4d4;
  --vscode-panel-border: #80808059;
  --vscode-input-background: #ffffff;
  --vscode-input-foreground: #616161;
  --vscode-input-border: #cecece;
  --vscode-input-placeholderForeground: #767676;
  --vscode-dropdown-background: #ffffff;
  --vscode-dropdown-foreground: #616161;
  --vscode-dropdown-border: #cecece;
  --vscode-button-background: #007acc;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #0062a3;
  --vscode-button-secondaryBackground: #5f6a79;
  --vscode-button-secondaryForeground: #ffffff;
  --vscode-button-secondaryHoverBackground: #4c5561;
  --vscode-textLink-foreground: #006ab1;
  --vscode-textLink-activeForeground: #006ab1;
  --vscode-textCodeBlock-background: #dcdcdc66;
  --vscode-textBlockQuote-background: #f2f2f2;
  --vscode-textBlockQuote-border: #007acc80;
  --vscode-toolbar-hoverBackground: #b8b8b850;
  --vscode-list-hoverBackground: #e8e8e8;
  --vscode-inputValidation-errorBackground: #f2dede;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-inputValidation-warningBackground: #f6f5d2;
  --vscode-inputValidation-warningBorder: #b89500;
  --vscode-editorWarning-foreground: #bf8803;
  --vscode-testing-iconPassed: #388a34;
  --vscode-editorCursor-foreground: #000000;
  --vscode-charts-blue: #1a85ff;
  --vscode-charts-green: #388a34;
  --vscode-charts-yellow: #bf8803;
  --vscode-charts-orange: #d18616;
  --vscode-charts-purple: #652d90;
  --vscode-symbolIcon-keywordForeground: #0000ff;
  --vscode-symbolIcon-functionForeground: #795e26;
  --vscode-symbolIcon-classForeground: #267f99;
  --vscode-symbolIcon-constantForeground: #800000;
  --vscode-debugTokenExpression-name: #9b46b0;
  --vscode-debugTokenExpression-string: #a31515;
  --vscode-debugTokenExpression-number: #098658;
`;

const dark = `
  --vscode-foreground: #cccccc;
  --vscode-descriptionForeground: #9d9d9d;
  --vscode-errorForeground: #f48771;
  --vscode-focusBorder: #007fd4;
  --vscode-icon-foreground: #c5c5c5;
  --vscode-sideBar-background: #252526;
  --vscode-editor-background: #1e1e1e;
  --vscode-editorWidget-background: #2d2d30;
  --vscode-widget-border: #454545;
  --vscode-panel-border: #80808059;
  --vscode-input-background: #3c3c3c;
  --vscode-input-foreground: #cccccc;
  --vscode-input-border: #3c3c3c;
  --vscode-input-placeholderForeground: #a6a6a6;
  --vscode-dropdown-background: #3c3c3c;
  --vscode-dropdown-foreground: #f0f0f0;
  --vscode-dropdown-border: #3c3c3c;
  --vscode-button-background: #0e639c;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #1177bb;
  --vscode-button-secondaryBackground: #3a3d41;
  --vscode-button-secondaryForeground: #ffffff;
  --vscode-button-secondaryHoverBackground: #45494e;
  --vscode-textLink-foreground: #3794ff;
  --vscode-textLink-activeForeground: #3794ff;
  --vscode-textCodeBlock-background: #0a0a0a66;
  --vscode-textBlockQuote-background: #7f7f7f1a;
  --vscode-textBlockQuote-border: #007acc80;
  --vscode-toolbar-hoverBackground: #5a5d5e50;
  --vscode-list-hoverBackground: #2a2d2e;
  --vscode-inputValidation-errorBackground: #5a1d1d;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-inputValidation-warningBackground: #352a05;
  --vscode-inputValidation-warningBorder: #b89500;
  --vscode-editorWarning-foreground: #cca700;
  --vscode-testing-iconPassed: #73c991;
  --vscode-editorCursor-foreground: #aeafad;
  --vscode-charts-blue: #3794ff;
  --vscode-charts-green: #89d185;
  --vscode-charts-yellow: #cca700;
  --vscode-charts-orange: #d18616;
  --vscode-charts-purple: #b180d7;
  --vscode-symbolIcon-keywordForeground: #569cd6;
  --vscode-symbolIcon-functionForeground: #dcdcaa;
  --vscode-symbolIcon-classForeground: #4ec9b0;
  --vscode-symbolIcon-constantForeground: #808080;
  --vscode-debugTokenExpression-name: #9cdcfe;
  --vscode-debugTokenExpression-string: #ce9178;
  --vscode-debugTokenExpression-number: #b5cea8;
`;

const hc = `
  --vscode-foreground: #ffffff;
  --vscode-descriptionForeground: #ffffffb3;
  --vscode-errorForeground: #f48771;
  --vscode-focusBorder: #f38518;
  --vscode-contrastBorder: #6fc3df;
  --vscode-contrastActiveBorder: #f38518;
  --vscode-icon-foreground: #ffffff;
  --vscode-sideBar-background: #000000;
  --vscode-editor-background: #000000;
  --vscode-editorWidget-background: #0c141f;
  --vscode-widget-border: #6fc3df;
  --vscode-panel-border: #6fc3df;
  --vscode-input-background: #000000;
  --vscode-input-foreground: #ffffff;
  --vscode-input-border: #6fc3df;
  --vscode-input-placeholderForeground: #ffffffb3;
  --vscode-dropdown-background: #000000;
  --vscode-dropdown-foreground: #ffffff;
  --vscode-dropdown-border: #6fc3df;
  --vscode-button-background: #000000;
  --vscode-button-foreground: #ffffff;
  --vscode-button-border: #6fc3df;
  --vscode-button-secondaryBackground: #000000;
  --vscode-button-secondaryForeground: #ffffff;
  --vscode-textLink-foreground: #21a6ff;
  --vscode-textLink-activeForeground: #21a6ff;
  --vscode-textCodeBlock-background: #000000;
  --vscode-textBlockQuote-background: #000000;
  --vscode-textBlockQuote-border: #ffffff;
  --vscode-toolbar-hoverBackground: transparent;
  --vscode-list-hoverBackground: transparent;
  --vscode-inputValidation-errorBackground: #000000;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-inputValidation-warningBackground: #000000;
  --vscode-inputValidation-warningBorder: #b89500;
  --vscode-editorWarning-foreground: #ffd370;
  --vscode-testing-iconPassed: #73c991;
  --vscode-editorCursor-foreground: #ffffff;
  --vscode-charts-blue: #3794ff;
  --vscode-charts-green: #89d185;
  --vscode-charts-yellow: #ffd370;
  --vscode-charts-orange: #d18616;
  --vscode-charts-purple: #b180d7;
  --vscode-symbolIcon-keywordForeground: #569cd6;
  --vscode-symbolIcon-functionForeground: #dcdcaa;
  --vscode-symbolIcon-classForeground: #4ec9b0;
  --vscode-symbolIcon-constantForeground: #ffffff;
  --vscode-debugTokenExpression-name: #ffffff;
  --vscode-debugTokenExpression-string: #ce9178;
  --vscode-debugTokenExpression-number: #b5cea8;
`;

export const THEMES: Record<ThemeName, { bodyClass: string; css: string }> = {
  light: { bodyClass: 'vscode-light', css: `html {${shared}${light}}` },
  dark: { bodyClass: 'vscode-dark', css: `html {${shared}${dark}}` },
  hc: { bodyClass: 'vscode-high-contrast', css: `html {${shared}${hc}}` },
};
