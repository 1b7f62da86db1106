/**
 * Project discovery from package.json files with plain `fs` (no `vscode`), and the command that starts a
 * project's dev server on a given port. Like VS Code's npm extension's parser, a broken package.json is reported
 * and skipped: discovery never throws because of one bad file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidInputError } from './errors';
import { frameworkEnv, frameworkOfArgv as frameworkOfServerArgv, portFlagsForArgv as serverPortFlags, type Framework } from './frameworks';
import { analyzeCommandLine, analyzeScript, unwrapArgv, type ProjectRole, type ResolvedServer } from './scriptResolver';
import { silentLogger, type Logger, type PortRange } from './types';
import { assertValidPort, isValidPort } from './validate';

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

export type { Framework } from './frameworks';
export type { ProjectRole } from './scriptResolver';

/**
 * The framework a command starts (`dev-ports run -- …`), looking through wrappers such as `dotenv -e .env --`,
 * `cross-env`, `npx` and `FOO=1`.
 *
 * @example
 * frameworkOfArgv(['npx', 'vite', '--host']); // 'vite'
 */
export function frameworkOfArgv(argv: readonly string[]): Framework | undefined {
  return frameworkOfServerArgv(unwrapArgv(argv).argv);
}

/**
 * Flags to append to a command (`dev-ports run -- vite`) so its framework uses `port`, strictly where it can;
 * empty when appended words would not reach it (dotenv without `--`), it reads PORT, or the port is pinned.
 *
 * @example
 * portFlagsForArgv(['dotenv', '-e', '.env', '--', 'vite'], 3000); // ['--port', '3000', '--strictPort']
 */
export function portFlagsForArgv(argv: readonly string[], port: number): string[] {
  assertValidPort(port);
  const inner = unwrapArgv(argv);
  return inner.passes ? serverPortFlags(inner.argv, port) : [];
}

/** One entry of the `devPorts.projects` setting (key: folder path relative to its workspace folder). */
export interface ProjectSetting {
  port?: number;
  portRange?: PortRange;
  command?: string;
}

export interface Project {
  /** Absolute normalised path of the folder, without trailing separator. */
  id: string;
  /** package.json `name`, else the folder name. */
  name: string;
  /** The name, with the relative path after it when another project has the same name: `vite-qwik (packages/create-vite/template-qwik)`. */
  label: string;
  /** The folder relative to its workspace folder, with `/`; '' for the workspace folder itself. */
  relativePath: string;
  /** 'orchestrator' (turbo, nx, `pnpm -r`: never started with one port), 'watcher' (tsc -w: never given a port), else 'server'. */
  role: ProjectRole;
  folder: string;
  workspaceFolder: string;
  /** The first of `devScriptNames` present in package.json. */
  script?: string;
  /** That script's text. */
  scriptCommand?: string;
  /** All string scripts of its package.json, to follow `npm run x` and `pnpm with-env …` chains. */
  scripts?: Record<string, string>;
  packageManager: PackageManager;
  /** From `devPorts.projects`. */
  port?: number;
  portRange?: PortRange;
  command?: string;
  /** Best guess from the dev script, else the dependencies; informational (flags come from the script text only). */
  framework?: Framework;
}

export interface DiscoverOptions {
  devScriptNames?: readonly string[];
  /** The `devPorts.projects` setting. */
  projects?: Readonly<Record<string, ProjectSetting | undefined>>;
  /** How deep below a workspace folder to look for package.json files. Default 4. */
  maxDepth?: number;
  logger?: Logger;
  /** discoverProjectsAsync only: told the length (ms) of each synchronous stretch between two awaits (for the benchmark). */
  onStretch?: (ms: number) => void;
}

export const DEFAULT_DEV_SCRIPT_NAMES: readonly string[] = Object.freeze(['dev', 'start', 'serve']);

interface PackageJson {
  name?: unknown;
  scripts?: unknown;
  workspaces?: unknown;
  packageManager?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
}

/**
 * The canonical project id of a folder: absolute, normalised, no trailing separator (a Windows drive letter in
 * lower case, as VS Code's `Uri.fsPath` writes it).
 *
 * @example
 * normalizeProjectId('/home/me/shop/apps/web/'); // '/home/me/shop/apps/web'
 */
export function normalizeProjectId(p: string): string {
  let resolved = path.resolve(p);
  const root = path.parse(resolved).root;
  while (resolved.length > root.length && (resolved.endsWith('/') || resolved.endsWith(path.sep))) resolved = resolved.slice(0, -1);
  if (/^[A-Z]:/.test(resolved)) resolved = resolved[0].toLowerCase() + resolved.slice(1);
  return resolved;
}

/**
 * Reads and parses a package.json; undefined (logged) when it is missing, not JSON or not an object.
 *
 * @example
 * readPackageJson('/src/web/package.json', logger)?.scripts;
 */
export function readPackageJson(file: string, logger: Logger = silentLogger): PackageJson | undefined {
  return runSync(readPackageJsonIo(file, logger));
}

function parsePackageJson(text: string, file: string, logger: Logger): PackageJson | undefined {
  try {
    const data: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data as PackageJson;
    logger.warn(`[projects] Skipping ${file}: it is not a JSON object.`);
  } catch (e) {
    logger.warn(`[projects] Skipping ${file}: invalid JSON (${(e as Error).message}).`);
  }
  return undefined;
}

function* readPackageJsonIo(file: string, logger: Logger): Io<PackageJson | undefined> {
  const text = yield* readText(file, logger);
  return text === undefined ? undefined : parsePackageJson(text, file, logger);
}

// ---- File access as steps, so one discovery runs synchronously (CLI) or asynchronously (extension host). ----

/** One file-system question. Discovery is written as a generator of these; a driver answers them. */
type IoRequest =
  | { op: 'readdir'; path: string }
  | { op: 'read'; path: string }
  | { op: 'isDir'; path: string }
  | { op: 'exists'; path: string }
  /** A point where the asynchronous driver may give the event loop a turn (work between reads is all cached). */
  | { op: 'tick' };
type Dirent = { name: string; dir: boolean };
type Io<T> = Generator<IoRequest, T, unknown>;

function* readdirIo(dir: string): Io<Dirent[]> {
  return (yield { op: 'readdir', path: dir }) as Dirent[];
}
function* existsIo(p: string): Io<boolean> {
  return (yield { op: 'exists', path: p }) as boolean;
}
function* isDirIo(p: string): Io<boolean> {
  return (yield { op: 'isDir', path: p }) as boolean;
}
function* readText(file: string, logger: Logger): Io<string | undefined> {
  const r = (yield { op: 'read', path: file }) as string | Error | undefined;
  if (r instanceof Error) {
    logger.warn(`[projects] Cannot read ${file}: ${r.message}`);
    return undefined;
  }
  return r;
}

function answerSync(req: IoRequest): unknown {
  switch (req.op) {
    case 'readdir':
      try {
        // Symlinked folders are skipped (isDirectory() is false for them): they loop (pnpm) or point outside.
        return fs.readdirSync(req.path, { withFileTypes: true }).map((d) => ({ name: d.name, dir: d.isDirectory() }));
      } catch {
        return [];
      }
    case 'read':
      try {
        return fs.readFileSync(req.path, 'utf8');
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? undefined : e;
      }
    case 'isDir':
      try {
        return fs.statSync(req.path).isDirectory();
      } catch {
        return false;
      }
    case 'exists':
      return fs.existsSync(req.path);
    case 'tick':
      return undefined;
  }
}

async function answerAsync(req: IoRequest): Promise<unknown> {
  switch (req.op) {
    case 'readdir':
      try {
        return (await fs.promises.readdir(req.path, { withFileTypes: true })).map((d) => ({ name: d.name, dir: d.isDirectory() }));
      } catch {
        return [];
      }
    case 'read':
      try {
        return await fs.promises.readFile(req.path, 'utf8');
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? undefined : e;
      }
    case 'isDir':
      try {
        return (await fs.promises.stat(req.path)).isDirectory();
      } catch {
        return false;
      }
    case 'exists':
      try {
        await fs.promises.access(req.path);
        return true;
      } catch {
        return false;
      }
    case 'tick':
      return undefined;
  }
}

function runSync<T>(gen: Io<T>): T {
  let step = gen.next();
  while (!step.done) step = gen.next(answerSync(step.value));
  return step.value;
}

/** Longest run of steps between two turns of the event loop (a promise resolving is not a turn: timers wait). */
const SLICE_MS = 3;

async function runAsync<T>(gen: Io<T>, onStretch?: (ms: number) => void): Promise<T> {
  let sliceStart = performance.now();
  let stretchStart = sliceStart;
  let step = gen.next();
  while (!step.done) {
    let answer: unknown;
    if (step.value.op !== 'tick') {
      onStretch?.(performance.now() - stretchStart);
      answer = await answerAsync(step.value);
      stretchStart = performance.now();
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      onStretch?.(performance.now() - stretchStart);
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = stretchStart = performance.now();
    }
    step = gen.next(answer);
  }
  onStretch?.(performance.now() - stretchStart);
  return step.value;
}

/**
 * The `packages:` list of a pnpm-workspace.yaml, read with a tiny line parser (block list or flow list).
 *
 * @example
 * parsePnpmWorkspace("packages:\n  - 'apps/*'\n  - packages/**\n"); // ['apps/*', 'packages/**']
 */
export function parsePnpmWorkspace(text: string): string[] {
  const unquote = (s: string) => s.trim().replace(/^(['"])(.*)\1$/, '$2').trim();
  const stripComment = (s: string) => s.replace(/\s+#.*$/, '').replace(/^#.*$/, '');
  const lines = text.split(/\r?\n/);
  const result: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^packages\s*:\s*(.*)$/.exec(stripComment(lines[i]));
    if (!m) continue;
    const inline = m[1].trim();
    if (inline.startsWith('[')) {
      return inline
        .replace(/^\[|\]$/g, '')
        .split(',')
        .map(unquote)
        .filter(Boolean);
    }
    for (let j = i + 1; j < lines.length; j++) {
      const line = stripComment(lines[j]);
      if (line.trim() === '') continue;
      if (!/^\s/.test(line) && !line.startsWith('-')) break; // next top-level key
      const item = /^\s*-\s*(.+)$/.exec(line);
      if (item) result.push(unquote(item[1]));
    }
    break;
  }
  return result;
}

function workspacePatterns(pkg: PackageJson | undefined): string[] {
  const ws = pkg?.workspaces;
  const list = Array.isArray(ws) ? ws : typeof ws === 'object' && ws !== null ? (ws as { packages?: unknown }).packages : undefined;
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && p.trim() !== '') : [];
}

function isSearchable(name: string): boolean {
  return name !== 'node_modules' && !name.startsWith('.');
}

function* subfoldersIo(dir: string): Io<string[]> {
  const entries = yield* readdirIo(dir);
  return entries
    .filter((d) => d.dir && isSearchable(d.name))
    .map((d) => path.join(dir, d.name))
    .sort();
}

function segmentMatcher(segment: string): (name: string) => boolean {
  if (segment === '*') return () => true;
  if (!segment.includes('*') && !segment.includes('?')) return (name) => name === segment;
  const re = new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return (name) => re.test(name);
}

/** A workspace glob is explicit configuration, so `**` follows it below the scan depth, up to this many levels. */
const GLOB_MAX_DEPTH = 10;

/**
 * Folders matching a workspace glob such as `apps/*`, `packages/**` or `tools/cli` below `base`. `**` matches any
 * depth up to `maxDepth` (default 10); node_modules and dot-folders are never entered.
 *
 * @example
 * expandWorkspaceGlob('/src/shop', 'apps/*'); // ['/src/shop/apps/admin', '/src/shop/apps/web']
 */
export function expandWorkspaceGlob(base: string, pattern: string, maxDepth = GLOB_MAX_DEPTH): string[] {
  return runSync(expandWorkspaceGlobIo(base, pattern, maxDepth));
}

function* expandWorkspaceGlobIo(base: string, pattern: string, maxDepth = GLOB_MAX_DEPTH): Io<string[]> {
  const segments = pattern
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return [];
  const out = new Set<string>();
  function* walk(dir: string, index: number, depth: number): Io<void> {
    if (index === segments.length) {
      out.add(dir);
      return;
    }
    const segment = segments[index];
    if (segment === '**') {
      yield* walk(dir, index + 1, depth);
      if (depth < maxDepth) for (const sub of yield* subfoldersIo(dir)) yield* walk(sub, index, depth + 1);
      return;
    }
    const matches = segmentMatcher(segment);
    if (!segment.includes('*') && !segment.includes('?')) {
      const next = path.join(dir, segment);
      if (isSearchable(segment) && (yield* existsIo(next))) yield* walk(next, index + 1, depth + 1);
      return;
    }
    for (const sub of yield* subfoldersIo(dir)) if (matches(path.basename(sub))) yield* walk(sub, index + 1, depth + 1);
  }
  yield* walk(base, 0, 0);
  const result: string[] = [];
  for (const d of out) if (yield* isDirIo(d)) result.push(d);
  return result;
}

const LOCKFILES: ReadonlyArray<[string, PackageManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/**
 * The package manager of a project: from the lockfile (or the package.json `packageManager` field) in its folder
 * or the nearest ancestor up to the workspace folder; npm when there is none.
 *
 * @example
 * detectPackageManager('/src/shop/apps/web', '/src/shop'); // 'pnpm' when /src/shop/pnpm-lock.yaml exists
 */
export function detectPackageManager(folder: string, workspaceFolder: string): PackageManager {
  return runSync(detectPackageManagerIo(folder, workspaceFolder, new Map()));
}

/** `cache`: what each folder's own lockfile or packageManager field says (null: nothing), shared by one discovery. */
function* detectPackageManagerIo(folder: string, workspaceFolder: string, cache: Map<string, PackageManager | null>): Io<PackageManager> {
  let dir = path.resolve(folder);
  const stop = path.resolve(workspaceFolder);
  for (;;) {
    let own = cache.get(dir);
    if (own === undefined) {
      own = null;
      for (const [file, pm] of LOCKFILES) {
        if (yield* existsIo(path.join(dir, file))) {
          own = pm;
          break;
        }
      }
      if (!own) {
        const text = yield* readText(path.join(dir, 'package.json'), silentLogger);
        const field = text === undefined ? undefined : parsePackageJson(text, dir, silentLogger)?.packageManager;
        if (typeof field === 'string') {
          const name = field.split('@')[0];
          if (name === 'npm' || name === 'pnpm' || name === 'yarn' || name === 'bun') own = name;
        }
      }
      cache.set(dir, own);
    }
    if (own) return own;
    const parent = path.dirname(dir);
    if (dir === stop || parent === dir || path.relative(stop, dir).startsWith('..')) return 'npm';
    dir = parent;
  }
}

function frameworkFromDependencies(pkg: PackageJson | undefined): Framework | undefined {
  const deps = {
    ...(typeof pkg?.dependencies === 'object' ? (pkg.dependencies as object) : {}),
    ...(typeof pkg?.devDependencies === 'object' ? (pkg.devDependencies as object) : {}),
  } as Record<string, unknown>;
  const order: ReadonlyArray<[string, Framework]> = [
    ['next', 'next'],
    ['nuxt', 'nuxt'],
    ['astro', 'astro'],
    ['@remix-run/dev', 'remix'],
    ['@react-router/dev', 'react-router'],
    ['@angular/cli', 'angular'],
    ['react-scripts', 'cra'],
    ['@docusaurus/core', 'docusaurus'],
    ['gatsby', 'gatsby'],
    ['@vue/cli-service', 'vue-cli'],
    ['vitepress', 'vitepress'],
    ['@rsbuild/core', 'rsbuild'],
    ['@rspack/cli', 'rspack'],
    ['@11ty/eleventy', 'eleventy'],
    ['storybook', 'storybook'],
    ['expo', 'expo'],
    ['ember-cli', 'ember'],
    ['parcel', 'parcel'],
    ['vinxi', 'vinxi'],
    ['webpack-dev-server', 'webpack'],
    ['vite', 'vite'],
  ];
  return order.find(([dep]) => dep in deps)?.[1];
}

/** The server of a script that takes port flags, and those flags. */
function flagTarget(servers: readonly ResolvedServer[], port: number): { server: ResolvedServer; flags: string[] } | undefined {
  for (const server of servers) {
    const flags = serverPortFlags(server.argv, port);
    if (flags.length > 0) return { server, flags };
  }
  return undefined;
}

/**
 * Port flags to append to a dev script so a framework that ignores `PORT` uses the allocated port, strictly where
 * it can (`--strictPort`, `--strict-port`, `--exact-port`). The script is followed through wrappers (`dotenv --`,
 * `cross-env`, `npx`, `FOO=1`); empty when appended words would not reach the framework (it is not the last
 * command, or sits inside `concurrently`), when it reads PORT, or when the script already names a port.
 *
 * @example
 * portFlagsFor('vite', 5173); // ['--port', '5173', '--strictPort']
 * portFlagsFor('dotenv -e .env.local -- vite', 5173); // ['--port', '5173', '--strictPort']
 */
export function portFlagsFor(scriptCommand: string | undefined, port: number): string[] {
  if (!scriptCommand) return [];
  const target = flagTarget(analyzeCommandLine(scriptCommand).servers, port);
  return target?.server.appendReaches ? target.flags : [];
}

export interface DevServerCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** True when `command` is a command line for a shell (a user's `devPorts.projects` command), not an executable. */
  shell?: boolean;
}

/** How each package manager runs a binary of the project (node_modules/.bin on PATH) with arguments as they are. */
function execArgs(pm: PackageManager, argv: readonly string[]): string[] {
  switch (pm) {
    case 'npm':
      return ['exec', '--', ...argv];
    case 'bun':
      return ['x', ...argv];
    default:
      return ['exec', ...argv];
  }
}

/**
 * How to start a project's dev server on `port`, with `PORT` set in the environment:
 * - the framework reads PORT (or none is known): `<pm> run <script>`;
 * - its port flag reaches it when appended (it is the last command, through pnpm/yarn/bun script chains, `dotenv --`,
 *   `cross-env`, `npx`): `<pm> run <script> [--] <flags>` (npm needs `--`), so pre/post scripts still run;
 * - otherwise (an `npm run` chain, which keeps `--port` for npm itself, `concurrently "vite" …`, `vite & tsc -w`):
 *   the resolved command itself through `<pm> exec`, its wrappers (`dotenv -e ../../.env --`) and `FOO=1`
 *   assignments kept, `concurrently` with the framework's word rewritten and its other commands kept. Commands
 *   chained beside the framework in the same script (`tsc -w & vite`) are then not started.
 * Frameworks that would stop at a question get the variables that avoid it (Angular: `NG_FORCE_TTY=false`).
 * A project `command` (from the user's settings; adapters run it only in a trusted workspace) is used as is, with
 * `${port}` replaced by the port.
 *
 * @example
 * devServerCommand({ ...project, packageManager: 'npm', script: 'dev', scriptCommand: 'vite' }, 3000);
 * // { command: 'npm', args: ['run', 'dev', '--', '--port', '3000', '--strictPort'], env: { PORT: '3000' } }
 */
export function devServerCommand(project: Project, port: number): DevServerCommand {
  assertValidPort(port);
  const env: Record<string, string> = { PORT: String(port) };
  if (project.command) return { command: project.command.split('${port}').join(String(port)), args: [], env, shell: true };
  if (!project.script) {
    throw new InvalidInputError(
      `${project.name} has no dev script; add one to its package.json or set a "command" for it in devPorts.projects.`,
    );
  }
  const pm = project.packageManager;
  const scripts = project.scripts ?? { [project.script]: project.scriptCommand ?? '' };
  const analysis = analyzeScript(scripts, project.script, pm);
  const framework = analysis.servers.find((s) => s.framework)?.framework;
  Object.assign(env, frameworkEnv(framework));
  const target = flagTarget(analysis.servers, port);
  if (!target) return { command: pm, args: ['run', project.script], env };
  const { server, flags } = target;
  if (server.appendReaches) {
    // npm needs "--" to pass arguments to the script; pnpm, yarn and bun pass them through as they are.
    return { command: pm, args: ['run', project.script, ...(pm === 'npm' ? ['--', ...flags] : flags)], env };
  }
  Object.assign(env, server.env, { PORT: String(port) });
  if (server.launcher) {
    const argv = [...server.launcher.argv];
    argv[server.launcher.index] = `${argv[server.launcher.index]} ${flags.join(' ')}`;
    return { command: pm, args: execArgs(pm, argv), env };
  }
  return { command: pm, args: execArgs(pm, [...server.wrappers, ...server.argv, ...flags]), env };
}

function settingKey(key: string): string {
  return key
    .replace(/\\/g, '/')
    .replace(/^\.\/?/, '')
    .replace(/\/+$/, '');
}

function validSetting(key: string, raw: unknown, logger: Logger): ProjectSetting {
  const out: ProjectSetting = {};
  if (typeof raw !== 'object' || raw === null) {
    logger.warn(`[projects] Ignoring devPorts.projects["${key}"]: it is not an object.`);
    return out;
  }
  const s = raw as Record<string, unknown>;
  if (s.port !== undefined) {
    if (isValidPort(s.port)) out.port = s.port;
    else logger.warn(`[projects] Ignoring devPorts.projects["${key}"].port: ${JSON.stringify(s.port)} is not a port from 1 to 65535.`);
  }
  if (s.portRange !== undefined) {
    const r = s.portRange as Partial<PortRange> | null;
    if (r && isValidPort(r.start) && isValidPort(r.end) && r.start <= r.end) out.portRange = { start: r.start, end: r.end };
    else logger.warn(`[projects] Ignoring devPorts.projects["${key}"].portRange: it must be { start, end } with start <= end.`);
  }
  if (s.command !== undefined) {
    if (typeof s.command === 'string' && s.command.trim() !== '') out.command = s.command;
    else logger.warn(`[projects] Ignoring devPorts.projects["${key}"].command: it must be a non-empty string.`);
  }
  return out;
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Scripts tried after `devScriptNames`: a folder whose only server script is `storybook` is a Storybook project. */
export const FALLBACK_SCRIPT_NAMES: readonly string[] = Object.freeze(['storybook']);

/**
 * Finds the dev-server projects of the workspace folders: every folder (up to `maxDepth` deep, plus the folders
 * named by npm/yarn `workspaces` and pnpm-workspace.yaml globs) whose package.json has one of `devScriptNames`
 * (else a `storybook` script), and every folder named in `devPorts.projects`. node_modules and dot-folders are
 * never searched. Each project says its `role` (server, orchestrator, watcher) and a `label` that tells apart two
 * projects with the same name. Synchronous, for the CLI; the extension uses {@link discoverProjectsAsync}.
 *
 * @example
 * const projects = discoverProjects(['/src/shop'], { devScriptNames: ['dev', 'start'], projects: {} });
 * projects.map((p) => `${p.label}: ${p.packageManager} run ${p.script} (${p.role})`);
 */
export function discoverProjects(workspaceFolders: readonly string[], options: DiscoverOptions = {}): Project[] {
  return runSync(discoverIo(workspaceFolders, options));
}

/**
 * The same result as {@link discoverProjects}, reading the file system asynchronously: the event loop is never
 * held for more than one package.json parse at a time (bench/rows/discovery.mjs measures the longest stretch).
 *
 * @example
 * const projects = await discoverProjectsAsync(['/src/shop'], { devScriptNames: ['dev'] });
 */
export function discoverProjectsAsync(workspaceFolders: readonly string[], options: DiscoverOptions = {}): Promise<Project[]> {
  return runAsync(discoverIo(workspaceFolders, options), options.onStretch);
}

function* discoverIo(workspaceFolders: readonly string[], options: DiscoverOptions): Io<Project[]> {
  const logger = options.logger ?? silentLogger;
  const scriptNames = [...(options.devScriptNames ?? DEFAULT_DEV_SCRIPT_NAMES), ...FALLBACK_SCRIPT_NAMES];
  const maxDepth = options.maxDepth ?? 4;
  const settings = new Map<string, ProjectSetting>();
  for (const [key, raw] of Object.entries(options.projects ?? {})) settings.set(settingKey(key), validSetting(key, raw, logger));
  const pmCache = new Map<string, PackageManager | null>();

  const projects: Project[] = [];
  const seen = new Set<string>();
  for (const rawFolder of workspaceFolders) {
    const workspaceFolder = normalizeProjectId(rawFolder);
    if (!(yield* existsIo(workspaceFolder))) {
      logger.warn(`[projects] Workspace folder ${workspaceFolder} does not exist.`);
      continue;
    }
    const candidates = new Set<string>([workspaceFolder]);
    const excluded = new Set<string>();
    const packageJsons = new Map<string, PackageJson | undefined>();
    function* pkgOf(dir: string): Io<PackageJson | undefined> {
      if (!packageJsons.has(dir)) packageJsons.set(dir, yield* readPackageJsonIo(path.join(dir, 'package.json'), logger));
      return packageJsons.get(dir);
    }

    function* scanChildren(dir: string, entries: Dirent[], depth: number): Io<void> {
      if (depth >= maxDepth) return;
      for (const entry of [...entries].sort((x, y) => (x.name < y.name ? -1 : 1))) {
        if (!entry.dir || !isSearchable(entry.name)) continue;
        const sub = path.join(dir, entry.name);
        const children = yield* readdirIo(sub);
        if (children.some((c) => c.name === 'package.json' && !c.dir)) candidates.add(sub);
        yield* scanChildren(sub, children, depth + 1);
      }
    }
    yield* scanChildren(workspaceFolder, yield* readdirIo(workspaceFolder), 0);

    // Workspace globs can reach below maxDepth (`apps/**`); any package.json found may declare its own.
    const expanded = new Set<string>();
    const queue = [...candidates];
    while (queue.length > 0) {
      const dir = queue.shift()!;
      if (expanded.has(dir)) continue;
      expanded.add(dir);
      const patterns = [...workspacePatterns(yield* pkgOf(dir))];
      const pnpmText = yield* readText(path.join(dir, 'pnpm-workspace.yaml'), logger);
      if (pnpmText !== undefined) patterns.push(...parsePnpmWorkspace(pnpmText));
      yield { op: 'tick' };
      for (const pattern of patterns) {
        const negated = pattern.startsWith('!');
        for (const match of yield* expandWorkspaceGlobIo(dir, negated ? pattern.slice(1) : pattern)) {
          const id = normalizeProjectId(match);
          if (!isInside(workspaceFolder, id)) continue;
          if (negated) excluded.add(id);
          else if (!candidates.has(id)) {
            candidates.add(id);
            queue.push(id);
          }
        }
      }
    }

    for (const key of settings.keys()) {
      const dir = normalizeProjectId(path.resolve(workspaceFolder, key));
      if (!isInside(workspaceFolder, dir)) continue;
      if (yield* isDirIo(dir)) candidates.add(dir);
      else if (workspaceFolders.length === 1) logger.warn(`[projects] devPorts.projects["${key}"] names ${dir}, which is not a folder.`);
    }

    const sorted = [...candidates].sort((a, b) => (a === workspaceFolder ? -1 : b === workspaceFolder ? 1 : a.localeCompare(b)));
    for (const folder of sorted) {
      yield { op: 'tick' };
      if (seen.has(folder) || excluded.has(folder)) continue;
      const relativePath = settingKey(path.relative(workspaceFolder, folder));
      const setting = settings.get(relativePath);
      const pkg = yield* pkgOf(folder);
      const rawScripts = typeof pkg?.scripts === 'object' && pkg.scripts !== null ? (pkg.scripts as Record<string, unknown>) : {};
      const scripts: Record<string, string> = {};
      for (const [k, v] of Object.entries(rawScripts)) if (typeof v === 'string') scripts[k] = v;
      const script = scriptNames.find((n) => typeof scripts[n] === 'string' && scripts[n].trim() !== '');
      if (!script && !setting) continue;
      seen.add(folder);
      const name = typeof pkg?.name === 'string' && pkg.name.trim() !== '' ? pkg.name : path.basename(folder);
      const project: Project = {
        id: folder,
        name,
        label: name,
        relativePath,
        role: 'server',
        folder,
        workspaceFolder,
        packageManager: yield* detectPackageManagerIo(folder, workspaceFolder, pmCache),
      };
      let framework: Framework | undefined;
      if (script) {
        project.script = script;
        project.scriptCommand = scripts[script];
        project.scripts = scripts;
        const analysis = analyzeScript(scripts, script, project.packageManager);
        // A configured command replaces the script, so only the script's role counts without one.
        if (!setting?.command) project.role = analysis.role;
        framework = analysis.servers.find((s) => s.framework)?.framework;
      }
      if (setting?.port !== undefined) project.port = setting.port;
      if (setting?.portRange) project.portRange = setting.portRange;
      if (setting?.command) {
        project.command = setting.command;
        const words = parseCommandLineFirst(setting.command);
        framework = (words && frameworkOfServerArgv(words)) || framework;
      }
      framework = framework ?? frameworkFromDependencies(pkg);
      if (framework) project.framework = framework;
      projects.push(project);
    }
  }
  disambiguateLabels(projects);
  return projects;
}

function parseCommandLineFirst(line: string): string[] | undefined {
  return analyzeCommandLine(line).servers[0]?.argv;
}

/**
 * Two projects with one name (the vite repository has two `vite-qwik` templates) get their relative path after it:
 * `vite-qwik (packages/create-vite/template-qwik)`; a workspace folder root gets the folder's name.
 */
function disambiguateLabels(projects: Project[]): void {
  const count = new Map<string, number>();
  for (const p of projects) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  for (const p of projects) {
    if ((count.get(p.name) ?? 0) > 1) p.label = `${p.name} (${p.relativePath || path.basename(p.workspaceFolder)})`;
  }
}
