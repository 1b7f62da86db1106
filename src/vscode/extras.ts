/**
 * dist/extras.js: what only some commands need, loaded on their first use through `extras()` of lazy.ts: the
 * Show Metrics page and opening the JavaScript Debug Terminal of Start with Debugger. Nothing here imports
 * src/os or a stateful core module (a second bundle holds its own copy of what it imports).
 */
export { metricsHtml } from './metricsHtml';
export { openDebugTerminal } from './servers/debugTerminalOpen';
