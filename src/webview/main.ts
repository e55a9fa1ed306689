// Entry of the chat webview bundle (media/dist/webview.js).
import { ChatApp, type VsCodeApi } from './app';

declare function acquireVsCodeApi(): VsCodeApi;

const root = document.getElementById('app');
if (root) new ChatApp(root, acquireVsCodeApi()).start();
