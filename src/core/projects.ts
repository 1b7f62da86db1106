/**
 * Project discovery from package.json files with plain `fs` (no `vscode`), and the command that starts a
 * project's dev server on a given port. Like VS Code's npm extension's parser, a broken package.json is reported
 * and skipped: discovery never throws because of one bad file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidInputError } from './errors';
import { silentLogger, type Logger, type PortRange } from './types';
import { assertValidPort, isValidPort } from './validate';

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

/** Frameworks whose port handling Dev Ports knows (see FIELD-NOTES: which ones read PORT, which need --port). */
export type Framework = 'vite' | 'astro' | 'angular' | 'webpack' | 'next' | 'nuxt' | 'remix' | 'react-router' | 'cra';

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
  folder: string;
  workspaceFolder: string;
  /** The first of `devScriptNames` present in package.json. */
  script?: string;
  /** That script's text. */
  scriptCommand?: string;
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
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`[projects] Cannot read ${file}: ${(e as Error).message}`);
    return undefined;
  }
  try {
    const data: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data as PackageJson;
    logger.warn(`[projects] Skipping ${file}: it is not a JSON object.`);
  } catch (e) {
    logger.warn(`[projects] Skipping ${file}: invalid JSON (${(e as Error).message}).`);
  }
  return undefined;
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

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      // Symlinked folders are skipped: they loop (pnpm) or point outside the workspace.
      .filter((d) => d.isDirectory() && isSearchable(d.name))
      .map((d) => path.join(dir, d.name))
      .sort();
  } catch {
    return [];
  }
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
  const segments = pattern
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return [];
  const out = new Set<string>();
  const walk = (dir: string, index: number, depth: number) => {
    if (index === segments.length) {
      out.add(dir);
      return;
    }
    const segment = segments[index];
    if (segment === '**') {
      walk(dir, index + 1, depth);
      if (depth < maxDepth) for (const sub of subfolders(dir)) walk(sub, index, depth + 1);
      return;
    }
    const matches = segmentMatcher(segment);
    if (!segment.includes('*') && !segment.includes('?')) {
      const next = path.join(dir, segment);
      if (isSearchable(segment) && fs.existsSync(next)) walk(next, index + 1, depth + 1);
      return;
    }
    for (const sub of subfolders(dir)) if (matches(path.basename(sub))) walk(sub, index + 1, depth + 1);
  };
  walk(base, 0, 0);
  return [...out].filter((d) => {
    try {
      return fs.statSync(d).isDirectory();
    } catch {
      return false;
    }
  });
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
  let dir = path.resolve(folder);
  const stop = path.resolve(workspaceFolder);
  for (;;) {
    for (const [file, pm] of LOCKFILES) if (fs.existsSync(path.join(dir, file))) return pm;
    const field = readPackageJson(path.join(dir, 'package.json'))?.packageManager;
    if (typeof field === 'string') {
      const name = field.split('@')[0];
      if (name === 'npm' || name === 'pnpm' || name === 'yarn' || name === 'bun') return name;
    }
    const parent = path.dirname(dir);
    if (dir === stop || parent === dir || path.relative(stop, dir).startsWith('..')) return 'npm';
    dir = parent;
  }
}

/** The last command of a script (npm appends extra arguments to the whole string, so they land there). */
function lastCommandTokens(script: string): string[] {
  const parts = script.split(/&&|\|\||[;&|]/);
  const tokens = (parts[parts.length - 1] ?? '').trim().split(/\s+/).filter(Boolean);
  // Skip what only wraps the real command: env assignments, cross-env, npx/bunx/pnpm exec/yarn.
  let i = 0;
  for (;;) {
    const t = tokens[i];
    if (t === undefined) break;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(t) || t === 'cross-env' || t === 'npx' || t === 'bunx' || t === 'dotenv' || t === '--') i++;
    else if ((t === 'pnpm' || t === 'yarn') && tokens[i + 1] === 'exec') i += 2;
    else if (t === 'pnpm' && tokens[i + 1] === 'dlx') i += 2;
    else break;
  }
  return tokens.slice(i);
}

function frameworkFromScript(script: string): Framework | undefined {
  const [bin, sub] = lastCommandTokens(script);
  const name = bin ? path.basename(bin) : undefined;
  if (name === 'vite') return sub === 'build' ? undefined : 'vite';
  if (name === 'astro' && (sub === 'dev' || sub === 'preview')) return 'astro';
  if (name === 'ng' && (sub === 'serve' || sub === 's')) return 'angular';
  if ((name === 'webpack' || name === 'webpack-cli') && sub === 'serve') return 'webpack';
  if (name === 'webpack-dev-server') return 'webpack';
  if (name === 'remix' && sub === 'vite:dev') return 'remix';
  // React Router 7 (Remix's successor) runs Vite itself: it ignores PORT and takes Vite's --port/--strictPort.
  if (name === 'react-router' && sub === 'dev') return 'react-router';
  if (name === 'next' && (sub === 'dev' || sub === 'start')) return 'next';
  if ((name === 'nuxt' || name === 'nuxi') && sub === 'dev') return 'nuxt';
  if (name === 'react-scripts' && sub === 'start') return 'cra';
  return undefined;
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
    ['webpack-dev-server', 'webpack'],
    ['vite', 'vite'],
  ];
  return order.find(([dep]) => dep in deps)?.[1];
}

/**
 * Port flags to append to a dev script so a framework that ignores `PORT` uses the allocated port, and Vite fails
 * instead of drifting (`--strictPort`). Empty when the script's last command is not such a framework or already
 * names a port (the user pinned it).
 *
 * @example
 * portFlagsFor('vite', 5173); // ['--port', '5173', '--strictPort']
 */
export function portFlagsFor(scriptCommand: string | undefined, port: number): string[] {
  if (!scriptCommand) return [];
  const tokens = lastCommandTokens(scriptCommand);
  if (tokens.some((t) => t === '--port' || t.startsWith('--port=') || t === '-p')) return [];
  switch (frameworkFromScript(scriptCommand)) {
    case 'vite':
    case 'remix':
    case 'react-router':
      return ['--port', String(port), '--strictPort'];
    // Astro's CLI has no --strictPort (only vite.server.strictPort in its config), so on a taken port it moves on
    // like Vite ("Port 4321 is in use, trying another one...") and the caller follows it from the output.
    // ng serve and webpack-dev-server fail on an explicit port that is taken.
    case 'astro':
    case 'angular':
    case 'webpack':
      return ['--port', String(port)];
    default:
      // next, nuxt, CRA and plain Node read PORT from the environment.
      return [];
  }
}

export interface DevServerCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** True when `command` is a command line for a shell (a user's `devPorts.projects` command), not an executable. */
  shell?: boolean;
}

/**
 * How to start a project's dev server on `port`: `<pm> run <script>` with `PORT` set, plus `--port` flags for
 * frameworks that ignore `PORT`. A project `command` (from the user's settings; adapters run it only in a trusted
 * workspace) is used as is, with `${port}` replaced by the port.
 *
 * @example
 * devServerCommand({ ...project, packageManager: 'npm', script: 'dev', scriptCommand: 'vite' }, 3000);
 * // { command: 'npm', args: ['run', 'dev', '--', '--port', '3000', '--strictPort'], env: { PORT: '3000' } }
 */
export function devServerCommand(project: Project, port: number): DevServerCommand {
  assertValidPort(port);
  const env = { PORT: String(port) };
  if (project.command) return { command: project.command.split('${port}').join(String(port)), args: [], env, shell: true };
  if (!project.script) {
    throw new InvalidInputError(
      `${project.name} has no dev script; add one to its package.json or set a "command" for it in devPorts.projects.`,
    );
  }
  const args = ['run', project.script];
  const flags = portFlagsFor(project.scriptCommand, port);
  // npm needs "--" to pass arguments to the script; pnpm, yarn and bun pass them through as they are.
  if (flags.length > 0) args.push(...(project.packageManager === 'npm' ? ['--', ...flags] : flags));
  return { command: project.packageManager, args, env };
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

/**
 * Finds the dev-server projects of the workspace folders: every folder (up to `maxDepth` deep, plus the folders
 * named by npm/yarn `workspaces` and pnpm-workspace.yaml globs) whose package.json has one of `devScriptNames`,
 * and every folder named in `devPorts.projects`. node_modules and dot-folders are never searched.
 *
 * @example
 * const projects = discoverProjects(['/src/shop'], { devScriptNames: ['dev', 'start'], projects: {} });
 * projects.map((p) => `${p.name}: ${p.packageManager} run ${p.script}`);
 */
export function discoverProjects(workspaceFolders: readonly string[], options: DiscoverOptions = {}): Project[] {
  const logger = options.logger ?? silentLogger;
  const scriptNames = options.devScriptNames ?? DEFAULT_DEV_SCRIPT_NAMES;
  const maxDepth = options.maxDepth ?? 4;
  const settings = new Map<string, ProjectSetting>();
  for (const [key, raw] of Object.entries(options.projects ?? {})) settings.set(settingKey(key), validSetting(key, raw, logger));

  const projects: Project[] = [];
  const seen = new Set<string>();
  for (const rawFolder of workspaceFolders) {
    const workspaceFolder = normalizeProjectId(rawFolder);
    if (!fs.existsSync(workspaceFolder)) {
      logger.warn(`[projects] Workspace folder ${workspaceFolder} does not exist.`);
      continue;
    }
    const candidates = new Set<string>([workspaceFolder]);
    const excluded = new Set<string>();
    const packageJsons = new Map<string, PackageJson | undefined>();
    const pkgOf = (dir: string) => {
      if (!packageJsons.has(dir)) packageJsons.set(dir, readPackageJson(path.join(dir, 'package.json'), logger));
      return packageJsons.get(dir);
    };

    const scan = (dir: string, depth: number) => {
      if (depth >= maxDepth) return;
      for (const sub of subfolders(dir)) {
        if (fs.existsSync(path.join(sub, 'package.json'))) candidates.add(sub);
        scan(sub, depth + 1);
      }
    };
    scan(workspaceFolder, 0);

    // Workspace globs can reach below maxDepth (`apps/**`); any package.json found may declare its own.
    const expanded = new Set<string>();
    const queue = [...candidates];
    while (queue.length > 0) {
      const dir = queue.shift()!;
      if (expanded.has(dir)) continue;
      expanded.add(dir);
      const patterns = [...workspacePatterns(pkgOf(dir))];
      const pnpmFile = path.join(dir, 'pnpm-workspace.yaml');
      if (fs.existsSync(pnpmFile)) {
        try {
          patterns.push(...parsePnpmWorkspace(fs.readFileSync(pnpmFile, 'utf8')));
        } catch (e) {
          logger.warn(`[projects] Cannot read ${pnpmFile}: ${(e as Error).message}`);
        }
      }
      for (const pattern of patterns) {
        const negated = pattern.startsWith('!');
        for (const match of expandWorkspaceGlob(dir, negated ? pattern.slice(1) : pattern)) {
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
      if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) candidates.add(dir);
      else if (workspaceFolders.length === 1) logger.warn(`[projects] devPorts.projects["${key}"] names ${dir}, which is not a folder.`);
    }

    const sorted = [...candidates].sort((a, b) => (a === workspaceFolder ? -1 : b === workspaceFolder ? 1 : a.localeCompare(b)));
    for (const folder of sorted) {
      if (seen.has(folder) || excluded.has(folder)) continue;
      const rel = settingKey(path.relative(workspaceFolder, folder));
      const setting = settings.get(rel);
      const pkg = pkgOf(folder);
      const scripts = typeof pkg?.scripts === 'object' && pkg.scripts !== null ? (pkg.scripts as Record<string, unknown>) : {};
      const script = scriptNames.find((n) => typeof scripts[n] === 'string' && (scripts[n] as string).trim() !== '');
      if (!script && !setting) continue;
      seen.add(folder);
      const project: Project = {
        id: folder,
        name: typeof pkg?.name === 'string' && pkg.name.trim() !== '' ? pkg.name : path.basename(folder),
        folder,
        workspaceFolder,
        packageManager: detectPackageManager(folder, workspaceFolder),
      };
      if (script) {
        project.script = script;
        project.scriptCommand = scripts[script] as string;
      }
      if (setting?.port !== undefined) project.port = setting.port;
      if (setting?.portRange) project.portRange = setting.portRange;
      if (setting?.command) project.command = setting.command;
      const framework = (project.scriptCommand && frameworkFromScript(project.scriptCommand)) || frameworkFromDependencies(pkg);
      if (framework) project.framework = framework;
      projects.push(project);
    }
  }
  return projects;
}
