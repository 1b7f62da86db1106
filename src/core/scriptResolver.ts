/**
 * Following a package.json dev script to the command that really serves: through script chains (`npm run dev:web`,
 * `pnpm with-env vite dev`), environment wrappers (`dotenv -e .env --`, `env-cmd -f .env`, `cross-env`,
 * `FOO=1`), runners (`npx`, `bunx --bun`, `pnpm exec`) and launchers (`concurrently`, `npm-run-all`), and telling
 * orchestrators (turbo, nx, `pnpm -r`) and watchers (`tsc -w`) from servers (CONTRACT.md "Words").
 */
import * as path from 'path';
import { frameworkOfArgv, type Framework } from './frameworks';
import { parseCommandLine, splitShellWords } from './shellWords';

export type ProjectRole = 'server' | 'orchestrator' | 'watcher';
export type ScriptPackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

export interface ResolvedServer {
  /** The serving command, wrappers removed: `['vite', 'dev']`. */
  argv: string[];
  framework?: Framework;
  /** Words before it that only wrap it and pass its arguments on: `['dotenv', '-e', '../../.env', '--']`. */
  wrappers: string[];
  /** `NAME=value` assignments in front of it (`FOO=1 vite`, `cross-env FOO=1 vite`). */
  env: Record<string, string>;
  /** The scripts followed to reach it, the dev script first. */
  scripts: string[];
  /** True when `<pm> run <devScript> [--] <flags>` lands the flags right after `argv`. */
  appendReaches: boolean;
  /** Inside a `concurrently` call: its whole argv (wrappers included) and which word holds this command. */
  launcher?: { argv: string[]; index: number };
}

export interface ScriptAnalysis {
  role: ProjectRole;
  /** Commands that serve (or may: an unknown `node server.js`), in script order. */
  servers: ResolvedServer[];
}

type Leaf =
  | { kind: 'server'; server: ResolvedServer }
  | { kind: 'orchestrator' | 'watcher' | 'other' };

interface Context {
  scripts: Readonly<Record<string, unknown>>;
  pm: ScriptPackageManager;
  chain: string[];
  depth: number;
}

const ORCHESTRATOR_BINS = new Set(['turbo', 'nx', 'lerna', 'ultra', 'wireit', 'moon', 'lage', 'rush']);
/** Build tools that never serve when a dev script runs them (with or without --watch). */
const WATCHER_BINS = new Set(['rolldown', 'tsc', 'vue-tsc', 'tsup', 'tsdown', 'rollup', 'unbuild', 'swc', 'babel', 'microbundle', 'pkgroll', 'vitest', 'jest', 'tsc-alias', 'rimraf-watch', 'cpx', 'chokidar']);
/** Commands that neither serve nor watch: they do not decide a role. */
const NEUTRAL = new Set(['echo', 'rm', 'rimraf', 'cp', 'mkdir', 'sleep', 'wait-on', 'cd', 'true', 'false', 'exit', 'export', 'set', 'printf', 'test', '[', 'open', 'shx', 'del-cli', 'premove', 'prisma', 'drizzle-kit', 'husky', 'sherif']);

function bin(word: string): string {
  return path.basename(word.replace(/\\/g, '/')).replace(/\.(cmd|exe)$/i, '');
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Options of wrappers that take a value (so the value is not taken for the command). */
const DOTENV_VALUE_OPTS = new Set(['-e', '-v', '-p', '-c']);
const ENVCMD_VALUE_OPTS = new Set(['-f', '--file', '-e', '--environments', '-r', '--rc-file']);
const NPX_VALUE_OPTS = new Set(['-p', '--package', '-c', '--call', '--node-options', '--shell']);
const CONCURRENTLY_VALUE_OPTS = new Set([
  '-n', '--names', '-c', '--prefix-colors', '-p', '--prefix', '-s', '--success', '--restart-tries', '--restart-after',
  '-m', '--max-processes', '--default-input-target', '-t', '--timestamp-format', '-l', '--prefix-length', '--hide',
  '--names-separator', '--kill-signal',
]);

interface Unwrapped {
  argv: string[];
  wrappers: string[];
  env: Record<string, string>;
  /** Whether words appended to the whole command still reach `argv`'s end. */
  passes: boolean;
  /** `cross-env-shell "…"`: the rest is a command line of its own. */
  shellLine?: string;
}

/** Removes wrappers from the front of a command. */
function unwrap(argv: string[]): Unwrapped {
  const out: Unwrapped = { argv, wrappers: [], env: {}, passes: true };
  let a = argv;
  for (let guard = 0; guard < 20 && a.length > 0; guard++) {
    const m = ASSIGNMENT.exec(a[0]);
    if (m) {
      out.env[m[1]] = m[2];
      a = a.slice(1);
      continue;
    }
    const b = bin(a[0]);
    if (b === 'env') {
      out.wrappers.push(a[0]);
      a = a.slice(1);
      continue;
    }
    if (b === 'cross-env') {
      out.wrappers.push(a[0]);
      a = a.slice(1);
      while (a.length > 0 && ASSIGNMENT.test(a[0])) {
        const [, k, v] = ASSIGNMENT.exec(a[0])!;
        out.env[k] = v;
        a = a.slice(1);
      }
      continue;
    }
    if (b === 'cross-env-shell') {
      let i = 1;
      while (i < a.length && ASSIGNMENT.test(a[i])) {
        const [, k, v] = ASSIGNMENT.exec(a[i])!;
        out.env[k] = v;
        i++;
      }
      // cross-env-shell joins the rest into one command line for a shell; appended words join it too.
      out.wrappers.push(a[0]);
      out.shellLine = a.slice(i).join(' ');
      out.argv = [];
      return out;
    }
    if (b === 'dotenv' || b === 'dotenvx') {
      const dd = a.indexOf('--');
      let i = 1;
      if (b === 'dotenvx' && a[1] === 'run') i = 2;
      if (dd >= 0) {
        out.wrappers.push(...a.slice(0, dd + 1));
        a = a.slice(dd + 1);
      } else {
        while (i < a.length && a[i].startsWith('-')) i += DOTENV_VALUE_OPTS.has(a[i]) || a[i] === '-f' ? 2 : 1;
        out.wrappers.push(...a.slice(0, i));
        a = a.slice(i);
        // dotenv-cli parses the command's own options as its own without `--`.
        out.passes = false;
      }
      continue;
    }
    if (b === 'env-cmd') {
      let i = 1;
      while (i < a.length && a[i].startsWith('-') && a[i] !== '--') i += ENVCMD_VALUE_OPTS.has(a[i]) ? 2 : 1;
      if (a[i] === '--') i++;
      out.wrappers.push(...a.slice(0, i));
      a = a.slice(i);
      continue;
    }
    if (b === 'npx' || b === 'pnpx' || b === 'bunx') {
      let i = 1;
      while (i < a.length && a[i].startsWith('-') && a[i] !== '--') i += NPX_VALUE_OPTS.has(a[i]) ? 2 : 1;
      if (a[i] === '--') i++;
      out.wrappers.push(...a.slice(0, i));
      a = a.slice(i);
      continue;
    }
    if ((b === 'npm' && a[1] === 'exec') || ((b === 'pnpm' || b === 'yarn') && (a[1] === 'exec' || a[1] === 'dlx')) || (b === 'bun' && a[1] === 'x')) {
      let i = 2;
      while (i < a.length && a[i].startsWith('-') && a[i] !== '--') i++;
      if (a[i] === '--') i++;
      out.wrappers.push(...a.slice(0, i));
      a = a.slice(i);
      continue;
    }
    if (b === 'bun' && a[1] === '--bun') {
      // `bun --bun run dev` is `bun run dev`; `bun --bun vite` runs the vite binary with Bun, like `bunx --bun vite`.
      if (a[2] === 'run' || a[2] === 'x') {
        a = [a[0], ...a.slice(2)];
        continue;
      }
      out.wrappers.push(a[0], a[1]);
      a = a.slice(2);
      continue;
    }
    break;
  }
  out.argv = a;
  return out;
}

/** Glob of npm-run-all / concurrently script names (`dev:*`, `build:**`) as a matcher. */
function scriptPattern(pattern: string): (name: string) => boolean {
  if (!pattern.includes('*')) return (name) => name === pattern;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*/g, '\u0000')
      .replace(/\*/g, '[^:]*')
      .replace(/\u0000/g, '.*')}$`,
  );
  return (name) => re.test(name);
}

const WORKSPACE_FLAGS = new Set(['-r', '--recursive', '--filter', '-F', '--workspaces', '-ws', '--workspace', '-w', '--workspace-root', '--prefix', '-C', '--dir', '--cwd', '--include-workspace-root']);

function isWorkspaceFlag(word: string): boolean {
  return WORKSPACE_FLAGS.has(word) || /^--(filter|workspace|prefix|dir|cwd)=/.test(word);
}

const MAX_DEPTH = 12;

/** The script a package-manager command runs in the same package.json, and the arguments after its name. */
function scriptCall(argv: string[], ctx: Context): { name: string; args: string[]; argsPass: boolean } | 'workspace' | undefined {
  const b = bin(argv[0]);
  if (b !== 'npm' && b !== 'pnpm' && b !== 'yarn' && b !== 'bun') return undefined;
  const rest = argv.slice(1);
  // npm reads its own flags anywhere (`npm run dev -w web`); pnpm, yarn and bun only before the script's name
  // (`pnpm build-bundle -w` passes -w to the script), except pnpm's selection flags.
  const nameAt = rest.findIndex((w) => !w.startsWith('-'));
  const own = b === 'npm' ? rest : nameAt < 0 ? rest : rest.slice(0, nameAt + (['run', 'run-script'].includes(rest[nameAt]) ? 1 : 0));
  if (own.some(isWorkspaceFlag) || (b === 'pnpm' && rest.some((w) => w === '-r' || w === '--recursive' || w === '--filter' || w.startsWith('--filter=')))) return 'workspace';
  if (b === 'yarn' && (rest[0] === 'workspaces' || rest[0] === 'workspace')) return 'workspace';
  let i = 0;
  while (i < rest.length && rest[i].startsWith('-')) i++;
  let name = rest[i];
  if (name === undefined) return undefined;
  let explicitRun = false;
  if (name === 'run' || name === 'run-script' || name === 'rum' || name === 'urn') {
    explicitRun = true;
    i++;
    while (i < rest.length && rest[i].startsWith('-')) i++;
    name = rest[i];
    if (name === undefined) return undefined;
  } else if (b === 'npm' && !['start', 'test', 'stop', 'restart'].includes(name)) return undefined;
  if (!explicitRun && b !== 'npm' && typeof ctx.scripts[name] !== 'string') return undefined;
  const args = rest.slice(i + 1);
  if (b !== 'npm') return { name, args, argsPass: true };
  // npm hands the script only what follows `--`; options before it (like --port) it keeps for itself.
  const dd = args.indexOf('--');
  return { name, args: dd >= 0 ? args.slice(dd + 1) : args.filter((w) => !w.startsWith('-')), argsPass: dd >= 0 };
}

/** Analyses one command line (a script's text plus words appended to it). */
function analyzeLine(line: string, ctx: Context, reaches: boolean): Leaf[] {
  const commands = parseCommandLine(line);
  if (!commands) return [{ kind: 'other' }];
  const leaves: Leaf[] = [];
  commands.forEach((cmd, index) => {
    const isLast = index === commands.length - 1;
    leaves.push(...analyzeArgv(cmd.argv, ctx, reaches && isLast));
  });
  return leaves;
}

function analyzeScriptRef(name: string, extra: string[], ctx: Context, reaches: boolean): Leaf[] {
  const text = ctx.scripts[name];
  if (typeof text !== 'string' || ctx.depth >= MAX_DEPTH || ctx.chain.includes(name)) return [{ kind: 'other' }];
  const line = extra.length > 0 ? `${text} ${extra.map((w) => (/[\s'"\\$`|&;()<>]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ')}` : text;
  return analyzeLine(line, { ...ctx, chain: [...ctx.chain, name], depth: ctx.depth + 1 }, reaches);
}

function analyzeArgv(argv0: string[], ctx: Context, reaches: boolean): Leaf[] {
  if (argv0.length === 0) return [];
  const u = unwrap(argv0);
  if (u.shellLine !== undefined) {
    return analyzeLine(u.shellLine, ctx, reaches).map((l) => (l.kind === 'server' ? withWrappers(l, u) : l));
  }
  const argv = u.argv;
  if (argv.length === 0) return [];
  const passes = reaches && u.passes;
  const b = bin(argv[0]);

  if (ORCHESTRATOR_BINS.has(b)) return [{ kind: 'orchestrator' }];

  const call = scriptCall(argv, ctx);
  if (call === 'workspace') return [{ kind: 'orchestrator' }];
  if (call) return analyzeScriptRef(call.name, call.args, ctx, passes && call.argsPass).map((l) => (l.kind === 'server' ? withWrappers(l, u, true) : l));

  if (b === 'concurrently' || b === 'conc') {
    const leaves: Leaf[] = [];
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i];
      if (w.startsWith('-')) {
        if (CONCURRENTLY_VALUE_OPTS.has(w)) i++;
        continue;
      }
      const shorthand = /^(npm|pnpm|yarn|bun|node):(.+)$/.exec(w);
      const sub = shorthand
        ? matchingScripts(shorthand[2], ctx).flatMap((name) => analyzeScriptRef(name, [], ctx, false))
        : analyzeLine(w, ctx, false);
      for (const l of sub) {
        if (l.kind === 'server' && !shorthand) {
          leaves.push({ kind: 'server', server: { ...l.server, launcher: { argv: [...u.wrappers, ...argv], index: u.wrappers.length + i } } });
        } else leaves.push(l);
      }
    }
    return leaves.map((l) => (l.kind === 'server' ? withEnv(l, u) : l));
  }

  if (b === 'npm-run-all' || b === 'npm-run-all2' || b === 'run-p' || b === 'run-s') {
    const leaves: Leaf[] = [];
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i];
      if (w === '--') break;
      if (w.startsWith('-')) {
        if (w === '--max-parallel' || w === '--npm-path') i++;
        continue;
      }
      for (const name of matchingScripts(w, ctx)) leaves.push(...analyzeScriptRef(name, [], ctx, false));
    }
    return leaves;
  }

  if (isWatcher(b, argv)) return [{ kind: 'watcher' }];
  if (NEUTRAL.has(b)) return [{ kind: 'other' }];

  return [
    {
      kind: 'server',
      server: {
        argv,
        framework: frameworkOfArgv(argv),
        wrappers: u.wrappers,
        env: u.env,
        scripts: [...ctx.chain],
        appendReaches: passes,
      },
    },
  ];
}

function matchingScripts(pattern: string, ctx: Context): string[] {
  const matches = scriptPattern(pattern);
  return Object.keys(ctx.scripts).filter((n) => typeof ctx.scripts[n] === 'string' && matches(n));
}

function withEnv(l: Leaf & { kind: 'server' }, u: Unwrapped): Leaf {
  return { kind: 'server', server: { ...l.server, env: { ...u.env, ...l.server.env } } };
}

/** Puts the wrappers of an outer command in front of a server found through it. */
function withWrappers(l: Leaf & { kind: 'server' }, u: Unwrapped, viaScript = false): Leaf {
  // A wrapper around `pnpm run x` (dotenv -- pnpm run x) still applies to what x runs: keep it in front.
  const wrappers = viaScript ? [...u.wrappers.filter((w) => w !== 'cross-env-shell'), ...l.server.wrappers] : [...u.wrappers, ...l.server.wrappers];
  return { kind: 'server', server: { ...l.server, wrappers, env: { ...u.env, ...l.server.env } } };
}

function isWatcher(b: string, argv: string[]): boolean {
  const args = argv.slice(1);
  const watchFlag = args.some((a) => a === '--watch' || a === '-w' || a.startsWith('--watch='));
  if (WATCHER_BINS.has(b)) return true;
  if (b === 'tsc-watch') return !args.some((a) => a.startsWith('--onSuccess'));
  if (b === 'esbuild') return !args.some((a) => a === '--serve' || a.startsWith('--serve=') || a.startsWith('--servedir'));
  if (b === 'node' || b === 'bun' || b === 'deno') return args.includes('--test') || args[0] === 'test';
  if ((b === 'vite' || b === 'rsbuild' || b === 'rspack' || b === 'webpack' || b === 'parcel') && args.includes('build')) return true;
  if (b === 'webpack' && watchFlag && !args.includes('serve')) return true;
  return false;
}

/**
 * What a package.json script does: its role and the commands in it that serve, followed through script chains
 * and wrappers. Unknown commands (`node server.js`) count as servers: they may read PORT.
 *
 * @example
 * analyzeScript({ dev: 'pnpm with-env vite dev', 'with-env': 'dotenv -e ../../.env --' }, 'dev', 'pnpm').servers[0];
 * // { argv: ['vite', 'dev'], framework: 'vite', wrappers: ['dotenv', '-e', '../../.env', '--'], appendReaches: true, … }
 * analyzeScript({ dev: 'turbo watch dev --continue' }, 'dev', 'pnpm').role; // 'orchestrator'
 */
export function analyzeScript(scripts: Readonly<Record<string, unknown>>, scriptName: string, pm: ScriptPackageManager): ScriptAnalysis {
  const leaves = analyzeScriptRef(scriptName, [], { scripts, pm, chain: [], depth: 0 }, true);
  const servers = leaves.flatMap((l) => (l.kind === 'server' ? [l.server] : []));
  const role: ProjectRole = leaves.some((l) => l.kind === 'orchestrator')
    ? 'orchestrator'
    : servers.length > 0
      ? 'server'
      : leaves.some((l) => l.kind === 'watcher')
        ? 'watcher'
        : 'server';
  return { role, servers };
}

/** Analyses a bare command line (`dev-ports run -- …`, a `devPorts.projects` command), with no scripts to follow. */
export function analyzeCommandLine(line: string): ScriptAnalysis {
  return analyzeScript({ '': line }, '', 'npm');
}

/**
 * A command's argv without its wrappers (`dotenv -e .env --`, `cross-env A=1`, `npx`, `FOO=1`), and whether words
 * appended to the whole command still reach the unwrapped one.
 *
 * @example
 * unwrapArgv(['dotenv', '-e', '.env', '--', 'vite']); // { argv: ['vite'], wrappers: ['dotenv', '-e', '.env', '--'], passes: true }
 */
export function unwrapArgv(argv: readonly string[]): { argv: string[]; wrappers: string[]; env: Record<string, string>; passes: boolean } {
  const u = unwrap([...argv]);
  if (u.shellLine !== undefined) {
    const inner = splitShellWords(u.shellLine) ?? [];
    const v = unwrap(inner);
    return { argv: v.argv, wrappers: [...u.wrappers, ...v.wrappers], env: { ...u.env, ...v.env }, passes: v.passes };
  }
  return { argv: u.argv, wrappers: u.wrappers, env: u.env, passes: u.passes };
}

export { splitShellWords };
