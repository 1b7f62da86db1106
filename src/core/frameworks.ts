/**
 * What Dev Ports knows about each dev server: how it is called, whether it reads `PORT`, which flag sets the port
 * and which one makes it fail instead of moving, and what it does on a taken port. One row per framework, so a
 * reader can check it at a glance; the README renders the same table. Sources: FIELD-NOTES ("Real frameworks,
 * measured"), each CLI's source in node_modules (cited per row), and test/fixtures/frameworks/ (real output).
 */
import * as path from 'path';

export type Framework =
  | 'vite'
  | 'remix'
  | 'react-router'
  | 'vinxi'
  | 'next'
  | 'nuxt'
  | 'astro'
  | 'angular'
  | 'webpack'
  | 'rspack'
  | 'rsbuild'
  | 'parcel'
  | 'cra'
  | 'vue-cli'
  | 'docusaurus'
  | 'gatsby'
  | 'vitepress'
  | 'eleventy'
  | 'storybook'
  | 'expo'
  | 'react-native'
  | 'ember';

/** What a framework does when its port is taken, with its own flag or PORT. */
export type OnTakenPort = 'fails' | 'drifts' | 'prompts';

/** How far this repository checked a row: started in the integration test, output captured in fixtures, or neither. */
export type Coverage = 'run for real' | 'captured output' | 'not covered';

export interface FrameworkSpec {
  id: Framework;
  /** Display name, with the frameworks that run it underneath. */
  name: string;
  /** Executable names (basename, without .cmd/.exe). */
  bins: readonly string[];
  /** Executables that serve with no subcommand at all (`webpack-dev-server`). */
  serveBins?: readonly string[];
  /**
   * Subcommands that serve. `''` stands for "no subcommand" (`vite`, `vite --host`); a word that is not a
   * subcommand (a path such as `vitepress docs`) counts as none when `''` is listed and `positionalIsDir` is set.
   */
  serve: readonly string[];
  /** A first positional that is not a listed subcommand is a folder (vite root, vitepress docs), not a subcommand. */
  positionalIsDir?: boolean;
  /** Serves only with this flag (`eleventy --serve`). */
  requiresFlag?: string;
  readsPort: boolean;
  /** The port flag, `{port}` standing for the number: `['--port', '{port}']`, `['--port={port}']`, `['-p', '{port}']`. */
  portFlag?: readonly string[];
  /** The flag that makes it fail on a taken port instead of moving or asking. */
  strictFlag?: string;
  /** Spellings of a port the user already pinned in the script (then Dev Ports adds nothing). */
  pinned: readonly string[];
  /** Environment that keeps it from stopping at a question (checked in its source). */
  env?: Readonly<Record<string, string>>;
  /** With Dev Ports' flags and env, on a taken port. */
  onTakenPort: OnTakenPort;
  /** Its own words for a taken port / a prompt (what portTrouble() recognises). */
  message: string;
  coverage: Coverage;
  /** Version the row was checked against, and where. */
  checked: string;
}

const PORT_PINS = ['--port', '-p'];

/** The framework table. Order matters only for reading. */
export const FRAMEWORKS: readonly FrameworkSpec[] = Object.freeze([
  {
    id: 'vite',
    name: 'Vite (SvelteKit `vite dev`, Qwik, TanStack Start ≥1.121, Vite templates)',
    bins: ['vite'],
    serve: ['', 'dev', 'serve', 'preview'],
    positionalIsDir: true,
    readsPort: false,
    portFlag: ['--port', '{port}'],
    strictFlag: '--strictPort',
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Error: Port N is already in use',
    coverage: 'run for real',
    checked: 'vite 8.4.0 (fixtures, integration)',
  },
  {
    id: 'remix',
    name: 'Remix (Vite)',
    bins: ['remix'],
    serve: ['vite:dev'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    strictFlag: '--strictPort',
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Error: Port N is already in use (Vite)',
    coverage: 'not covered',
    checked: 'FIELD-NOTES: Remix 2.17',
  },
  {
    id: 'react-router',
    name: 'React Router 7 framework mode',
    bins: ['react-router'],
    serve: ['dev'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    strictFlag: '--strictPort',
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Error: Port N is already in use (Vite)',
    coverage: 'not covered',
    checked: 'FIELD-NOTES: React Router 7.18',
  },
  {
    id: 'vinxi',
    name: 'Vinxi (SolidStart, TanStack Start <1.121)',
    bins: ['vinxi'],
    serve: ['dev'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'drifts',
    message: 'not captured',
    coverage: 'not covered',
    checked: 'not checked (flag from vinxi --help as documented)',
  },
  {
    id: 'next',
    name: 'Next.js',
    bins: ['next'],
    serve: ['dev', 'start'],
    readsPort: true,
    portFlag: ['-p', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Failed to start server / Error: listen EADDRINUSE: address already in use :::N',
    coverage: 'run for real',
    checked: 'next 16.4.6 (fixtures, integration)',
  },
  {
    id: 'nuxt',
    name: 'Nuxt (nuxi)',
    bins: ['nuxt', 'nuxi'],
    serve: ['dev'],
    readsPort: true,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'drifts',
    message: '[get-port] Unable to find an available port (tried N on any host). Using alternative port 3000.',
    coverage: 'captured output',
    checked: 'nuxt 4.4.5 (fixtures)',
  },
  {
    id: 'astro',
    name: 'Astro',
    bins: ['astro'],
    serve: ['dev', 'preview'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'drifts',
    message: '[vite] Port N is in use, trying another one...',
    coverage: 'captured output',
    checked: 'astro 5.18.2 (fixtures; Astro 6 needs Node ≥22.12, this machine has 20)',
  },
  {
    id: 'angular',
    name: 'Angular CLI (`ng serve`)',
    bins: ['ng'],
    serve: ['serve', 's', 'dev'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    // @angular/build 21.2 src/utils/check-port.js asks only when isTTY(); src/utils/tty.js: NG_FORCE_TTY wins over
    // the terminal, so NG_FORCE_TTY=false fails with "Port N is already in use. Use '--port' to specify a different
    // port." NG_CLI_ANALYTICS=false skips the first-run analytics question.
    env: { NG_CLI_ANALYTICS: 'false', NG_FORCE_TTY: 'false' },
    onTakenPort: 'fails',
    message: "Port N is already in use. Use '--port' to specify a different port. (without NG_FORCE_TTY=false: Would you like to use a different port? (Y/n))",
    coverage: 'captured output',
    checked: '@angular/cli 21.2.28 (fixtures: the prompt, and NG_FORCE_TTY=false failing instead)',
  },
  {
    id: 'webpack',
    name: 'webpack-dev-server (`webpack serve`)',
    bins: ['webpack-dev-server', 'webpack', 'webpack-cli'],
    serveBins: ['webpack-dev-server'],
    serve: ['serve', 'server', 's'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Error: listen EADDRINUSE: address already in use :::N',
    coverage: 'not covered',
    checked: 'FIELD-NOTES: webpack-dev-server 5.2',
  },
  {
    id: 'rspack',
    name: 'Rspack CLI (`rspack dev`)',
    bins: ['rspack'],
    serve: ['dev', 'serve', 'server', 's'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Error: listen EADDRINUSE (webpack-dev-server underneath)',
    coverage: 'not covered',
    checked: 'not checked (same dev server as webpack)',
  },
  {
    id: 'rsbuild',
    name: 'Rsbuild (and Rslib/Modern.js dev on Rsbuild)',
    bins: ['rsbuild'],
    serve: ['', 'dev', 'preview'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    strictFlag: '--strict-port',
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'error [rsbuild:server] Port N is occupied, please choose another one.',
    coverage: 'run for real',
    checked: '@rsbuild/core 2.3.2 (fixtures, integration)',
  },
  {
    id: 'parcel',
    name: 'Parcel',
    bins: ['parcel'],
    serve: ['', 'serve'],
    positionalIsDir: true,
    readsPort: true,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Error: Port "N" could not be used',
    coverage: 'not covered',
    checked: 'FIELD-NOTES: Parcel 2.16',
  },
  {
    id: 'cra',
    name: 'Create React App (`react-scripts start`)',
    bins: ['react-scripts'],
    serve: ['start'],
    readsPort: true,
    pinned: [],
    // react-dev-utils 12 WebpackDevServerUtils.choosePort asks whenever process.stdout.isTTY: no flag or variable
    // avoids it in a terminal, so portTrouble() recognises the question.
    onTakenPort: 'prompts',
    message: 'Something is already running on port N. … Would you like to run the app on another port instead? (Y/n)',
    coverage: 'captured output',
    checked: 'react-scripts 5.0.1 (fixtures; react-dev-utils 12.0.1 source)',
  },
  {
    id: 'vue-cli',
    name: 'Vue CLI (`vue-cli-service serve`)',
    bins: ['vue-cli-service'],
    serve: ['serve'],
    readsPort: true,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'drifts',
    message: 'App running at: - Local: http://localhost:N+1/ (moves silently)',
    coverage: 'not covered',
    checked: 'FIELD-NOTES: Vue CLI 5.0',
  },
  {
    id: 'docusaurus',
    name: 'Docusaurus',
    bins: ['docusaurus'],
    serve: ['start', 'serve'],
    readsPort: true,
    portFlag: ['--port', '{port}'],
    pinned: ['--port'],
    // @docusaurus/core 3.10 lib/server/getHostPort.js asks whenever process.stdout.isTTY.
    onTakenPort: 'prompts',
    message: '[WARNING] Something is already running on port N. … Would you like to run the app on another port instead?',
    coverage: 'not covered',
    checked: '@docusaurus/core 3.10.2 source (npm pack)',
  },
  {
    id: 'gatsby',
    name: 'Gatsby',
    bins: ['gatsby'],
    serve: ['develop', 'serve'],
    readsPort: true,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    // gatsby 5.16 dist/utils/detect-port-in-use-and-prompt.js asks unconditionally (no TTY or CI check).
    onTakenPort: 'prompts',
    message: 'Something is already running at port N / Would you like to run the app at another port instead?',
    coverage: 'not covered',
    checked: 'gatsby 5.16.1 source (npm pack)',
  },
  {
    id: 'vitepress',
    name: 'VitePress',
    bins: ['vitepress'],
    serve: ['', 'dev', 'preview', 'serve'],
    positionalIsDir: true,
    readsPort: false,
    portFlag: ['--port', '{port}'],
    strictFlag: '--strictPort',
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'failed to start server. error: Port N is already in use',
    coverage: 'run for real',
    checked: 'vitepress 1.6.4 (fixtures, integration)',
  },
  {
    id: 'eleventy',
    name: 'Eleventy (`eleventy --serve`)',
    bins: ['eleventy', '11ty'],
    serve: [''],
    positionalIsDir: true,
    requiresFlag: '--serve',
    readsPort: false,
    portFlag: ['--port={port}'],
    pinned: ['--port'],
    onTakenPort: 'drifts',
    message: '[11ty] Server at http://localhost:N+1/ (moves silently)',
    coverage: 'captured output',
    checked: '@11ty/eleventy 3.1.8 (fixtures)',
  },
  {
    id: 'storybook',
    name: 'Storybook (`storybook dev`; script `storybook`)',
    bins: ['storybook', 'start-storybook', 'sb'],
    serve: ['dev', ''],
    readsPort: false,
    portFlag: ['-p', '{port}'],
    // storybook 10.6 core-server getServerPort: --exact-port exits before the "run on port N+1 instead?" question.
    strictFlag: '--exact-port',
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'Port N is not available. Exiting because --exact-port was provided. (without it: Would you like to run Storybook on port N+1 instead?)',
    coverage: 'run for real',
    checked: 'storybook 10.6.7 (integration; fixtures: the prompt, and --exact-port failing instead)',
  },
  {
    id: 'expo',
    name: 'Expo (Metro)',
    bins: ['expo'],
    serve: ['start', ''],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'prompts',
    message: 'not captured',
    coverage: 'not covered',
    checked: 'not checked',
  },
  {
    id: 'react-native',
    name: 'React Native CLI (Metro, `react-native start`)',
    bins: ['react-native'],
    serve: ['start'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: ['--port'],
    onTakenPort: 'fails',
    message: 'not captured',
    coverage: 'not covered',
    checked: 'not checked',
  },
  {
    id: 'ember',
    name: 'Ember CLI (`ember serve`)',
    bins: ['ember'],
    serve: ['serve', 's', 'server'],
    readsPort: false,
    portFlag: ['--port', '{port}'],
    pinned: PORT_PINS,
    onTakenPort: 'fails',
    message: 'not captured',
    coverage: 'not covered',
    checked: 'not checked',
  },
] satisfies FrameworkSpec[]);

/** Node servers (Express, Fastify, Hono, Nest, plain `node server.js`): the app reads PORT; nothing to add. */
export const PORT_READERS_NOTE =
  'Express, Fastify, Hono, Nest and any `node server.js`: the app reads PORT (Dev Ports sets it); no flag.';

const BY_BIN = new Map<string, FrameworkSpec>();
for (const spec of FRAMEWORKS) for (const bin of spec.bins) BY_BIN.set(bin, spec);

/** A framework row by id. */
export function frameworkSpec(id: Framework | undefined): FrameworkSpec | undefined {
  return id === undefined ? undefined : FRAMEWORKS.find((f) => f.id === id);
}

function binName(word: string): string {
  return path.basename(word.replace(/\\/g, '/')).replace(/\.(cmd|exe|js|mjs|cjs)$/i, '');
}

/** The first word after the binary that is not an option (and not an option's value we can tell). */
function firstPositional(args: readonly string[]): string | undefined {
  for (const a of args) {
    if (a === '--') return undefined;
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * The framework a command (already stripped of wrappers such as `npx` or `dotenv --`) starts as a dev server, or
 * undefined when it is not one (`vite build`, `next lint`, `eleventy` without `--serve`).
 *
 * @example
 * frameworkOfArgv(['vite', 'dev', '--host']); // 'vite'
 * frameworkOfArgv(['next', 'build']); // undefined
 */
export function frameworkOfArgv(argv: readonly string[]): Framework | undefined {
  if (argv.length === 0) return undefined;
  const spec = BY_BIN.get(binName(argv[0]));
  if (!spec) return undefined;
  const rest = argv.slice(1);
  if (spec.serveBins?.includes(binName(argv[0]))) return spec.id;
  if (spec.requiresFlag && !rest.some((a) => a === spec.requiresFlag || a.startsWith(`${spec.requiresFlag}=`))) return undefined;
  const sub = firstPositional(rest);
  if (sub === undefined) return spec.serve.includes('') ? spec.id : undefined;
  if (spec.serve.includes(sub)) return spec.id;
  // `vite ./app`, `vitepress docs`, `parcel src/index.html`: a folder or entry, not a subcommand.
  if (spec.serve.includes('') && spec.positionalIsDir && !KNOWN_NON_SERVE.has(sub)) return spec.id;
  return undefined;
}

/** Subcommands of the "no subcommand serves" CLIs that do not serve. */
const KNOWN_NON_SERVE = new Set(['build', 'optimize', 'lint', 'test', 'export', 'info', 'init', 'help', 'version', 'upgrade', 'typegen', 'generate']);

function hasPinnedPort(spec: FrameworkSpec, args: readonly string[]): boolean {
  return args.some((a) => spec.pinned.some((p) => a === p || a.startsWith(`${p}=`)));
}

/**
 * The flags that give a dev-server command (its argv, wrappers already removed) the port `port`, strictly where
 * the framework can be strict. Empty when it is not a known framework, reads PORT and has no strict flag, or the
 * user pinned a port in the command.
 *
 * @example
 * portFlagsForArgv(['vite', 'dev'], 5173); // ['--port', '5173', '--strictPort']
 * portFlagsForArgv(['eleventy', '--serve'], 8080); // ['--port=8080']
 */
export function portFlagsForArgv(argv: readonly string[], port: number): string[] {
  const spec = frameworkSpec(frameworkOfArgv(argv));
  if (!spec?.portFlag || hasPinnedPort(spec, argv.slice(1))) return [];
  // A PORT reader without a strict flag gets nothing: PORT is set, and `-p` would only change Next's wording.
  if (spec.readsPort && !spec.strictFlag) return [];
  const flags = spec.portFlag.map((f) => f.split('{port}').join(String(port)));
  if (spec.strictFlag && !argv.includes(spec.strictFlag)) flags.push(spec.strictFlag);
  return flags;
}

/** Environment a framework needs so that it never waits at a question (Angular's analytics and port prompts). */
export function frameworkEnv(id: Framework | undefined): Record<string, string> {
  return { ...(frameworkSpec(id)?.env ?? {}) };
}
