import * as path from 'path';
import * as vscode from 'vscode';
import type * as DiscoveryPart from './discovery';
import type * as ExtrasPart from './extras';
import { errorMessage } from './log';

/**
 * A part of the extension built as its own file next to dist/extension.js (esbuild.js) and loaded with `require`
 * on first use, so activation parses less. Such a part gets the OS layer and every other stateful service through
 * its arguments: a second bundle has its own copy of each module it imports (and of its module-level state).
 * A part that cannot be loaded (a damaged install) fails with one clear message, shown once and thrown each time.
 *
 * @example
 * const agents = lazyPart<typeof import('./agents')>('agents.js', 'the agent tools');
 * agents().createAgents(deps);
 */
export function lazyPart<T>(file: string, what: string, logger?: { error(message: string): void }): () => T {
  let loaded: T | undefined;
  let shown = false;
  return () => {
    if (loaded) return loaded;
    const full = path.join(__dirname, file);
    try {
      // A computed path: esbuild leaves this require alone, so the part stays its own file.
      loaded = require(full) as T;
      return loaded;
    } catch (error) {
      // Node's "Cannot find module" goes on with its require stack: its first line says what is wrong.
      const message = `Dev Ports could not load ${what} (${full}): ${errorMessage(error).split('\n')[0]}. Reinstall the extension.`;
      logger?.error(message);
      if (!shown) {
        shown = true;
        void vscode.window.showErrorMessage(message);
      }
      throw new Error(message);
    }
  };
}

/** dist/extras.js: the metrics page and opening a debug terminal. */
export const extras = lazyPart<typeof ExtrasPart>('extras.js', 'the metrics page and Start with Debugger');

/**
 * dist/discovery.js: project discovery and the dev-server command line (src/core/projects.ts with its framework
 * table and script analysis), pure functions over files: loaded by the first refresh, right after activation.
 */
export const discovery = lazyPart<typeof DiscoveryPart>('discovery.js', 'project discovery');
