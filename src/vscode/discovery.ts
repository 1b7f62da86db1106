/**
 * dist/discovery.js (see `discovery()` of lazy.ts): finding the dev-server projects of a folder and the command
 * line that starts one. Pure functions over files and arguments, no module-level state to share with
 * dist/extension.js, and no src/os.
 */
export { devServerCommand, discoverProjectsAsync } from '../core/projects';
