import * as assert from 'assert';
import { analyzeScript } from '../../../src/core/scriptResolver';
import { devServerCommand, portFlagsFor, type Project } from '../../../src/core/projects';
import { FRAMEWORKS, frameworkOfArgv, portFlagsForArgv } from '../../../src/core/frameworks';

const project = (scripts: Record<string, string>, packageManager: Project['packageManager'] = 'npm', script = 'dev'): Project => ({
  id: '/w/app',
  name: 'app',
  label: 'app',
  relativePath: 'app',
  role: 'server',
  folder: '/w/app',
  workspaceFolder: '/w',
  packageManager,
  script,
  scriptCommand: scripts[script],
  scripts,
});

describe('framework table', () => {
  it('has one row per framework id, each with a binary, and a port flag wherever the framework ignores PORT', () => {
    const ids = FRAMEWORKS.map((f) => f.id);
    assert.strictEqual(new Set(ids).size, ids.length);
    for (const f of FRAMEWORKS) {
      assert.ok(f.bins.length > 0, f.id);
      if (!f.readsPort) assert.ok(f.portFlag, `${f.id} ignores PORT, so it needs a port flag`);
    }
  });

  it('knows each serving command and not the building ones', () => {
    const cases: Array<[string[], string | undefined]> = [
      [['vite'], 'vite'], [['vite', 'dev'], 'vite'], [['vite', 'playground/app'], 'vite'], [['vite', 'build'], undefined],
      [['next', 'dev'], 'next'], [['next', 'build'], undefined], [['rsbuild', 'dev'], 'rsbuild'], [['rsbuild', 'build'], undefined],
      [['vitepress', 'dev', 'docs'], 'vitepress'], [['vitepress', 'docs'], 'vitepress'], [['vitepress', 'build', 'docs'], undefined],
      [['eleventy', '--serve'], 'eleventy'], [['eleventy'], undefined], [['storybook', 'dev', '-p', '6006'], 'storybook'],
      [['storybook', 'build'], undefined], [['ng', 'serve'], 'angular'], [['webpack-dev-server'], 'webpack'],
      [['webpack', 'serve'], 'webpack'], [['webpack'], undefined], [['react-scripts', 'start'], 'cra'],
      [['vue-cli-service', 'serve'], 'vue-cli'], [['docusaurus', 'start'], 'docusaurus'], [['gatsby', 'develop'], 'gatsby'],
      [['remix', 'vite:dev'], 'remix'], [['react-router', 'dev'], 'react-router'], [['vinxi', 'dev'], 'vinxi'],
      [['/x/node_modules/.bin/vite.cmd'], 'vite'], [['node', 'server.js'], undefined],
    ];
    for (const [argv, fw] of cases) assert.strictEqual(frameworkOfArgv(argv), fw, argv.join(' '));
  });

  it('gives each framework its flag syntax and strict flag', () => {
    assert.deepStrictEqual(portFlagsForArgv(['vite'], 4000), ['--port', '4000', '--strictPort']);
    assert.deepStrictEqual(portFlagsForArgv(['rsbuild', 'dev'], 4000), ['--port', '4000', '--strict-port']);
    assert.deepStrictEqual(portFlagsForArgv(['vitepress', 'dev', 'docs'], 4000), ['--port', '4000', '--strictPort']);
    assert.deepStrictEqual(portFlagsForArgv(['eleventy', '--serve'], 4000), ['--port=4000']);
    assert.deepStrictEqual(portFlagsForArgv(['storybook', 'dev'], 4000), ['-p', '4000', '--exact-port']);
    assert.deepStrictEqual(portFlagsForArgv(['ng', 'serve'], 4000), ['--port', '4000']);
  });

  it('adds nothing for PORT readers or a pinned port', () => {
    for (const argv of [['next', 'dev'], ['react-scripts', 'start'], ['nuxt', 'dev'], ['storybook', 'dev', '-p', '6006'], ['eleventy', '--serve', '--port=8080'], ['vite', '--port=5173']]) {
      assert.deepStrictEqual(portFlagsForArgv(argv, 4000), [], argv.join(' '));
    }
  });
});

describe('analyzeScript', () => {
  it('follows create-t3-turbo\'s pnpm with-env chain to vite dev behind dotenv', () => {
    const a = analyzeScript({ dev: 'pnpm with-env vite dev', 'with-env': 'dotenv -e ../../.env --' }, 'dev', 'pnpm');
    assert.strictEqual(a.role, 'server');
    assert.deepStrictEqual(a.servers[0].argv, ['vite', 'dev']);
    assert.deepStrictEqual(a.servers[0].wrappers, ['dotenv', '-e', '../../.env', '--']);
    assert.deepStrictEqual(a.servers[0].scripts, ['dev', 'with-env']);
    assert.strictEqual(a.servers[0].appendReaches, true);
  });

  it('finds the server behind every wrapper shape', () => {
    const shapes: Array<[string, string[]]> = [
      ['dotenv -e .env.local -- vite', ['dotenv', '-e', '.env.local', '--']],
      ['env-cmd -f .env vite', ['env-cmd', '-f', '.env']],
      ['cross-env NODE_ENV=development vite', ['cross-env']],
      ['bunx --bun vite', ['bunx', '--bun']],
      ['npx vite', ['npx']],
      ['npx --yes vite', ['npx', '--yes']],
      ['pnpm exec vite', ['pnpm', 'exec']],
      [`NODE_OPTIONS='--a --b' vite`, []],
      ['FOO=1 vite', []],
      ['env FOO=1 vite', ['env']],
    ];
    for (const [line, wrappers] of shapes) {
      const s = analyzeScript({ dev: line }, 'dev', 'npm').servers[0];
      assert.deepStrictEqual(s.argv, ['vite'], line);
      assert.deepStrictEqual(s.wrappers, wrappers, line);
      assert.strictEqual(portFlagsFor(line, 4000).join(' '), '--port 4000 --strictPort', line);
    }
    assert.deepStrictEqual(analyzeScript({ dev: `NODE_OPTIONS='--a --b' vite` }, 'dev', 'npm').servers[0].env, { NODE_OPTIONS: '--a --b' });
    assert.deepStrictEqual(analyzeScript({ dev: 'cross-env A=1 B=2 vite' }, 'dev', 'npm').servers[0].env, { A: '1', B: '2' });
  });

  it('reads the command line of cross-env-shell', () => {
    const s = analyzeScript({ dev: `cross-env-shell NODE_ENV=dev "vite --host"` }, 'dev', 'npm').servers[0];
    assert.deepStrictEqual(s.argv, ['vite', '--host']);
    assert.strictEqual(s.framework, 'vite');
  });

  it('says that npm keeps --port for itself in an npm run chain, while pnpm, yarn and bun pass it on', () => {
    const scripts = { dev: 'npm run dev:vite', 'dev:vite': 'vite' };
    assert.strictEqual(analyzeScript(scripts, 'dev', 'npm').servers[0].appendReaches, false);
    assert.strictEqual(analyzeScript({ dev: 'npm run dev:vite --', 'dev:vite': 'vite' }, 'dev', 'npm').servers[0].appendReaches, true);
    for (const runner of ['pnpm run dev:vite', 'pnpm dev:vite', 'yarn dev:vite', 'yarn run dev:vite', 'bun run dev:vite']) {
      assert.strictEqual(analyzeScript({ dev: runner, 'dev:vite': 'vite' }, 'dev', 'pnpm').servers[0].appendReaches, true, runner);
    }
  });

  it('finds servers inside concurrently, and marks that appended flags would not reach them', () => {
    const a = analyzeScript({ dev: 'concurrently -n web,api "vite" "node api.js"' }, 'dev', 'npm');
    assert.strictEqual(a.role, 'server');
    assert.deepStrictEqual(a.servers.map((s) => s.argv[0]), ['vite', 'node']);
    assert.strictEqual(a.servers[0].appendReaches, false);
    assert.deepStrictEqual(a.servers[0].launcher, { argv: ['concurrently', '-n', 'web,api', 'vite', 'node api.js'], index: 3 });
  });

  it('recognises orchestrators', () => {
    const cases: Array<Record<string, string>> = [
      { dev: 'turbo watch dev --continue' },
      { dev: 'turbo run dev' },
      { dev: 'nx run-many -t serve' },
      { dev: 'lerna run dev --stream' },
      { dev: "pnpm -r --parallel --filter='./packages/*' run dev" },
      { dev: 'pnpm --filter web dev' },
      { dev: 'pnpm --recursive dev' },
      { dev: 'npm run dev --workspaces' },
      { dev: 'npm run dev -w apps/web' },
      { dev: 'yarn workspaces foreach -pi run dev' },
      { dev: 'yarn workspace web dev' },
      { dev: 'run-p dev:*', 'dev:web': 'pnpm --filter web dev', 'dev:api': 'pnpm --filter api dev' },
      { dev: 'npm-run-all --parallel dev:*', 'dev:web': 'npm run dev -w web' },
      { dev: 'concurrently "npm:dev:*"', 'dev:web': 'turbo dev --filter web' },
      { dev: 'concurrently "pnpm --filter web dev" "pnpm --filter api dev"' },
    ];
    for (const scripts of cases) assert.strictEqual(analyzeScript(scripts, 'dev', 'pnpm').role, 'orchestrator', scripts.dev);
  });

  it('recognises watchers, and a server beside a watcher as a server', () => {
    for (const dev of ['tsc', 'tsc --watch', 'tsc -b -w', 'tsup --watch', 'tsdown --watch', 'rollup -c -w', 'esbuild src/index.ts --watch', 'swc src -d dist -w', 'babel src -d lib --watch', 'node --test --watch', 'unbuild --stub', 'vitest']) {
      assert.strictEqual(analyzeScript({ dev }, 'dev', 'npm').role, 'watcher', dev);
    }
    for (const dev of ['tsc -w & vite', 'esbuild app.ts --serve=8000', 'node --watch server.js', 'tsx watch src/index.ts', 'run-p dev:*']) {
      assert.strictEqual(analyzeScript({ dev, 'dev:a': 'tsc -w', 'dev:b': 'vite' }, 'dev', 'npm').role, 'server', dev);
    }
  });

  it('survives a script that calls itself', () => {
    assert.strictEqual(analyzeScript({ dev: 'npm run dev' }, 'dev', 'npm').role, 'server');
  });
});

describe('devServerCommand through wrappers', () => {
  it('appends the flags when they reach the framework (pnpm with-env chain)', () => {
    const p = project({ dev: 'pnpm with-env vite dev', 'with-env': 'dotenv -e ../../.env --' }, 'pnpm');
    assert.deepStrictEqual(devServerCommand(p, 4000), { command: 'pnpm', args: ['run', 'dev', '--port', '4000', '--strictPort'], env: { PORT: '4000' } });
  });

  it('runs the resolved command through npm exec when npm would swallow the flags, keeping its wrappers and env', () => {
    const p = project({ dev: 'npm run dev:vite', 'dev:vite': 'cross-env FOO=1 dotenv -e .env.local -- vite' });
    assert.deepStrictEqual(devServerCommand(p, 4000), {
      command: 'npm',
      args: ['exec', '--', 'cross-env', 'dotenv', '-e', '.env.local', '--', 'vite', '--port', '4000', '--strictPort'],
      env: { PORT: '4000', FOO: '1' },
    });
  });

  it('rewrites the framework inside concurrently and keeps its other commands', () => {
    const p = project({ dev: 'concurrently "vite" "node api.js"' }, 'pnpm');
    assert.deepStrictEqual(devServerCommand(p, 4000).args, ['exec', 'concurrently', 'vite --port 4000 --strictPort', 'node api.js']);
  });

  it('uses bun x and yarn exec for those package managers', () => {
    const scripts = { dev: 'vite & tsc -w' };
    assert.deepStrictEqual(devServerCommand(project(scripts, 'bun'), 4000).args, ['x', 'vite', '--port', '4000', '--strictPort']);
    assert.deepStrictEqual(devServerCommand(project(scripts, 'yarn'), 4000).args, ['exec', 'vite', '--port', '4000', '--strictPort']);
  });

  it('sets the variables that keep Angular from asking, and adds no flag to Next (it reads PORT)', () => {
    assert.deepStrictEqual(devServerCommand(project({ dev: 'ng serve' }), 4000).env, { PORT: '4000', NG_CLI_ANALYTICS: 'false', NG_FORCE_TTY: 'false' });
    assert.deepStrictEqual(devServerCommand(project({ dev: 'pnpm with-env next dev', 'with-env': 'dotenv -e ../../.env --' }, 'pnpm'), 4000).args, ['run', 'dev']);
  });

  it('starts a Storybook-only folder with its strict flag', () => {
    const p = project({ storybook: 'storybook dev -p 6006' }, 'npm', 'storybook');
    // The template pins -p 6006: the user's pin wins, as for every framework.
    assert.deepStrictEqual(devServerCommand(p, 4000).args, ['run', 'storybook']);
    const q = project({ storybook: 'storybook dev' }, 'npm', 'storybook');
    assert.deepStrictEqual(devServerCommand(q, 4000).args, ['run', 'storybook', '--', '-p', '4000', '--exact-port']);
  });
});

describe('portFlagsForArgv and frameworkOfArgv of projects.ts (dev-ports run -- …)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const projects = require('../../../src/core/projects') as typeof import('../../../src/core/projects');
  it('look through wrappers', () => {
    assert.strictEqual(projects.frameworkOfArgv(['npx', 'vite', '--host']), 'vite');
    assert.strictEqual(projects.frameworkOfArgv(['cross-env-shell', 'rsbuild dev']), 'rsbuild');
    assert.deepStrictEqual(projects.portFlagsForArgv(['dotenv', '-e', '.env', '--', 'vite'], 3000), ['--port', '3000', '--strictPort']);
    assert.deepStrictEqual(projects.portFlagsForArgv(['FOO=1', 'rsbuild', 'dev'], 3000), ['--port', '3000', '--strict-port']);
  });
  it('add nothing where appended words would not reach the server, or for a bad port refuse', () => {
    assert.deepStrictEqual(projects.portFlagsForArgv(['dotenv', '-e', '.env', 'vite'], 3000), []);
    assert.deepStrictEqual(projects.portFlagsForArgv(['next', 'dev'], 3000), []);
    assert.throws(() => projects.portFlagsForArgv(['vite'], 70000), /Port must be/);
  });
});

describe('README framework table', () => {
  it('has a row for every framework of FRAMEWORKS, with its coverage', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('fs') as typeof import('fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const path = require('path') as typeof import('path');
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const f of FRAMEWORKS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| ${f.name} |`));
      assert.ok(row, `no README row for ${f.name}`);
      assert.ok(row.includes(`| ${f.coverage} (${f.checked}) |`), `README row of ${f.id} does not say "${f.coverage} (${f.checked})"`);
      if (f.strictFlag) assert.ok(row.includes(`\`${f.strictFlag}\``), `README row of ${f.id} lacks ${f.strictFlag}`);
    }
  });
});
