import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  devServerCommand,
  discoverProjects,
  expandWorkspaceGlob,
  normalizeProjectId,
  parsePnpmWorkspace,
  portFlagsFor,
  type Project,
} from '../../../src/core/projects';
import { InvalidInputError } from '../../../src/core/errors';
import { RecordingLogger, TempDirs, writeTree } from './helpers/testUtils';

const pkg = (name: string, scripts: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({ name, scripts, ...extra });

describe('project discovery', () => {
  const temp = new TempDirs();
  let root: string;
  let logger: RecordingLogger;

  beforeEach(() => {
    root = temp.make('dev-ports-projects-');
    logger = new RecordingLogger();
  });
  afterEach(() => temp.removeAll());

  const names = (projects: Project[]) => projects.map((p) => p.name).sort();
  const byName = (projects: Project[], name: string) => {
    const found = projects.find((p) => p.name === name);
    assert.ok(found, `no project named ${name} in ${names(projects).join(', ')}`);
    return found;
  };

  it('finds a single project at the workspace root with its id, script and package manager', () => {
    writeTree(root, { 'package.json': pkg('solo', { dev: 'node server.js', build: 'tsc' }), 'package-lock.json': '{}' });
    const [project, ...rest] = discoverProjects([root], { logger });
    assert.strictEqual(rest.length, 0);
    assert.deepStrictEqual(project, {
      id: normalizeProjectId(root),
      name: 'solo',
      label: 'solo',
      relativePath: '',
      role: 'server',
      folder: normalizeProjectId(root),
      workspaceFolder: normalizeProjectId(root),
      packageManager: 'npm',
      script: 'dev',
      scriptCommand: 'node server.js',
      scripts: { dev: 'node server.js', build: 'tsc' },
    });
  });

  it('finds every app of an npm workspaces monorepo, and the root that runs them', () => {
    writeTree(root, {
      'package.json': pkg('shop', { dev: 'turbo dev' }, { workspaces: ['apps/*', 'packages/*'] }),
      'package-lock.json': '{}',
      'apps/web/package.json': pkg('web', { dev: 'next dev' }),
      'apps/admin/package.json': pkg('admin', { dev: 'vite' }),
      'packages/ui/package.json': pkg('ui', { build: 'tsc' }),
    });
    const projects = discoverProjects([root], { logger });
    assert.deepStrictEqual(names(projects), ['admin', 'shop', 'web']);
    assert.strictEqual(byName(projects, 'web').packageManager, 'npm');
    assert.strictEqual(byName(projects, 'web').id, path.join(normalizeProjectId(root), 'apps', 'web'));
  });

  it('reads workspaces given as { packages } (yarn) and apps/** below the scan depth', () => {
    writeTree(root, {
      'package.json': pkg('mono', {}, { workspaces: { packages: ['apps/**'] } }),
      'yarn.lock': '',
      'apps/a/b/c/d/deep/package.json': pkg('deep', { dev: 'node deep.js' }),
    });
    const projects = discoverProjects([root], { logger, maxDepth: 2 });
    assert.deepStrictEqual(names(projects), ['deep']);
    assert.strictEqual(projects[0].packageManager, 'yarn');
  });

  it('reads the packages of pnpm-workspace.yaml and uses pnpm', () => {
    writeTree(root, {
      'package.json': pkg('mono'),
      'pnpm-workspace.yaml': "# workspace\npackages:\n  - 'services/**'\n  - \"!services/legacy\"\nonlyBuiltDependencies:\n  - esbuild\n",
      'pnpm-lock.yaml': '',
      'services/a/b/c/d/api/package.json': pkg('api', { start: 'node api.js' }),
      'services/legacy/package.json': pkg('legacy', { start: 'node old.js' }),
    });
    const projects = discoverProjects([root], { logger, maxDepth: 1 });
    assert.deepStrictEqual(names(projects), ['api']);
    assert.strictEqual(projects[0].packageManager, 'pnpm');
  });

  it('finds apps/* without any workspaces config by scanning subfolders', () => {
    writeTree(root, {
      'apps/one/package.json': pkg('one', { dev: 'vite' }),
      'apps/two/package.json': pkg('two', { serve: 'ng serve' }),
      'apps/two/bun.lockb': '',
    });
    const projects = discoverProjects([root], { logger });
    assert.deepStrictEqual(names(projects), ['one', 'two']);
    assert.strictEqual(byName(projects, 'two').packageManager, 'bun');
  });

  it('never looks into node_modules or dot-folders', () => {
    writeTree(root, {
      'package.json': pkg('app', { dev: 'node index.js' }, { workspaces: ['*'] }),
      'node_modules/some-lib/package.json': pkg('some-lib', { dev: 'x' }),
      'apps/web/node_modules/other/package.json': pkg('other', { dev: 'x' }),
      '.cache/thing/package.json': pkg('hidden', { dev: 'x' }),
    });
    assert.deepStrictEqual(names(discoverProjects([root], { logger })), ['app']);
  });

  it('skips an invalid package.json, reports it and keeps the other projects', () => {
    writeTree(root, {
      'apps/broken/package.json': '{ "name": "broken", "scripts": { "dev": ',
      'apps/array/package.json': '[1, 2]',
      'apps/good/package.json': pkg('good', { dev: 'node good.js' }),
    });
    const projects = discoverProjects([root], { logger });
    assert.deepStrictEqual(names(projects), ['good']);
    const warnings = logger.warnings().join('\n');
    assert.match(warnings, /apps[/\\]broken[/\\]package\.json: invalid JSON/);
    assert.match(warnings, /apps[/\\]array[/\\]package\.json: it is not a JSON object/);
  });

  it('takes the first of devScriptNames that the package has', () => {
    writeTree(root, { 'package.json': pkg('app', { start: 'node prod.js', dev: 'node dev.js', serve: 'x' }) });
    const [dev] = discoverProjects([root], { devScriptNames: ['dev', 'start'] });
    assert.strictEqual(dev.script, 'dev');
    const [start] = discoverProjects([root], { devScriptNames: ['start', 'dev'] });
    assert.strictEqual(start.script, 'start');
    assert.strictEqual(start.scriptCommand, 'node prod.js');
    assert.deepStrictEqual(discoverProjects([root], { devScriptNames: ['watch'] }), []);
  });

  it('adds the port, range and command of devPorts.projects, and folders named only there', () => {
    writeTree(root, {
      'apps/web/package.json': pkg('web', { dev: 'vite' }),
      'tools/server/main.py': 'print(1)',
    });
    const projects = discoverProjects([root], {
      logger,
      projects: {
        'apps/web': { port: 4100, portRange: { start: 4100, end: 4199 } },
        './tools/server/': { command: 'python3 -m http.server ${port}' },
        'apps/missing': { port: 4200 },
        'apps/bad': { port: 70000 } as never,
      },
    });
    const web = byName(projects, 'web');
    assert.strictEqual(web.port, 4100);
    assert.deepStrictEqual(web.portRange, { start: 4100, end: 4199 });
    const server = byName(projects, 'server');
    assert.strictEqual(server.command, 'python3 -m http.server ${port}');
    assert.strictEqual(server.script, undefined);
    assert.deepStrictEqual(names(projects), ['server', 'web']);
    assert.match(logger.warnings().join('\n'), /apps\/bad"\]\.port: 70000 is not a port/);
    assert.match(logger.warnings().join('\n'), /apps\/missing"\] names .* which is not a folder/);
  });

  it('takes the package manager from the nearest lockfile up to the workspace folder', () => {
    writeTree(root, {
      'pnpm-lock.yaml': '',
      'apps/a/package.json': pkg('a', { dev: 'x' }),
      'apps/b/package.json': pkg('b', { dev: 'x' }),
      'apps/b/yarn.lock': '',
      'apps/c/package.json': pkg('c', { dev: 'x' }, { packageManager: 'bun@1.1.0' }),
    });
    const projects = discoverProjects([root], { logger });
    assert.strictEqual(byName(projects, 'a').packageManager, 'pnpm');
    assert.strictEqual(byName(projects, 'b').packageManager, 'yarn');
    assert.strictEqual(byName(projects, 'c').packageManager, 'bun');
  });

  it('lists each folder once across nested workspace folders', () => {
    writeTree(root, { 'apps/web/package.json': pkg('web', { dev: 'x' }) });
    const projects = discoverProjects([root, path.join(root, 'apps', 'web')], { logger });
    assert.deepStrictEqual(names(projects), ['web']);
    assert.strictEqual(projects[0].workspaceFolder, normalizeProjectId(root));
  });

  it('expands simple globs to the matching folders only', () => {
    writeTree(root, { 'apps/web/x': '', 'apps/api/x': '', 'apps/.hidden/x': '', 'libs/ui/x': '' });
    const rel = (dirs: string[]) => dirs.map((d) => path.relative(root, d).split(path.sep).join('/')).sort();
    assert.deepStrictEqual(rel(expandWorkspaceGlob(root, 'apps/*')), ['apps/api', 'apps/web']);
    assert.deepStrictEqual(rel(expandWorkspaceGlob(root, './apps/w*')), ['apps/web']);
    assert.deepStrictEqual(rel(expandWorkspaceGlob(root, 'libs/ui')), ['libs/ui']);
    assert.deepStrictEqual(rel(expandWorkspaceGlob(root, '../outside')), []);
  });
});

describe('pnpm-workspace.yaml parser', () => {
  it('reads a block list with quotes and comments, stopping at the next key', () => {
    assert.deepStrictEqual(
      parsePnpmWorkspace("packages:\n  # apps\n  - 'apps/*'\n  - \"packages/**\" # libs\n  - tools/cli\ncatalog:\n  - not-this\n"),
      ['apps/*', 'packages/**', 'tools/cli'],
    );
  });

  it('reads a flow list', () => {
    assert.deepStrictEqual(parsePnpmWorkspace("packages: ['apps/*', \"libs/*\"]\n"), ['apps/*', 'libs/*']);
  });

  it('answers an empty list when there is no packages key', () => {
    assert.deepStrictEqual(parsePnpmWorkspace('catalog:\n  react: 18\n'), []);
  });
});

describe('normalizeProjectId', () => {
  it('makes a path absolute and drops the trailing separator', () => {
    assert.strictEqual(normalizeProjectId('/home/me/shop/apps/web/'), '/home/me/shop/apps/web');
    assert.strictEqual(normalizeProjectId('/home/me/shop/./apps/../apps/web'), '/home/me/shop/apps/web');
    assert.strictEqual(normalizeProjectId('/'), '/');
    assert.strictEqual(normalizeProjectId('rel/dir'), path.join(process.cwd(), 'rel', 'dir'));
  });
});

describe('devServerCommand', () => {
  const project = (over: Partial<Project>): Project => ({
    id: '/src/web',
    name: 'web',
    label: 'web',
    relativePath: 'web',
    role: 'server',
    folder: '/src/web',
    workspaceFolder: '/src',
    packageManager: 'npm',
    script: 'dev',
    scriptCommand: 'node server.js',
    ...over,
  });

  it('runs the script with PORT in the environment', () => {
    assert.deepStrictEqual(devServerCommand(project({}), 3000), { command: 'npm', args: ['run', 'dev'], env: { PORT: '3000' } });
  });

  it('uses the project package manager', () => {
    for (const pm of ['pnpm', 'yarn', 'bun'] as const) {
      assert.deepStrictEqual(devServerCommand(project({ packageManager: pm }), 3001).command, pm);
    }
  });

  it('adds --port and --strictPort for vite, after -- with npm', () => {
    assert.deepStrictEqual(devServerCommand(project({ scriptCommand: 'vite' }), 5200).args, [
      'run', 'dev', '--', '--port', '5200', '--strictPort',
    ]);
  });

  it('passes the flags directly with pnpm, yarn and bun', () => {
    for (const pm of ['pnpm', 'yarn', 'bun'] as const) {
      assert.deepStrictEqual(devServerCommand(project({ packageManager: pm, scriptCommand: 'vite --host' }), 5200).args, [
        'run', 'dev', '--port', '5200', '--strictPort',
      ]);
    }
  });

  it('adds --port and --strictPort for react-router dev, which ignores PORT and would listen on 5173', () => {
    assert.deepStrictEqual(devServerCommand(project({ scriptCommand: 'react-router dev' }), 45829).args, [
      'run', 'dev', '--', '--port', '45829', '--strictPort',
    ]);
    assert.deepStrictEqual(devServerCommand(project({ packageManager: 'pnpm', scriptCommand: 'react-router dev' }), 45829).args, [
      'run', 'dev', '--port', '45829', '--strictPort',
    ]);
  });

  it('adds no flags to react-router build, routes or typegen, nor when react-router dev pins --port', () => {
    for (const script of ['react-router build', 'react-router routes', 'react-router typegen', 'react-router dev --port 3000']) {
      assert.deepStrictEqual(portFlagsFor(script, 4000), [], script);
    }
  });

  it('adds --port for astro dev, ng serve and webpack serve', () => {
    for (const script of ['astro dev', 'ng serve', 'webpack serve --mode development', 'webpack-dev-server']) {
      assert.deepStrictEqual(devServerCommand(project({ scriptCommand: script }), 4000).args, ['run', 'dev', '--', '--port', '4000'], script);
    }
  });

  it('adds no flags for frameworks that read PORT, or when the port is pinned', () => {
    for (const script of ['next dev', 'nuxt dev', 'react-scripts start', 'vite --port 5173', 'vite build', 'vitest']) {
      assert.deepStrictEqual(devServerCommand(project({ scriptCommand: script }), 4000).args, ['run', 'dev'], script);
    }
  });

  it('looks at the last command of a chained script, where npm appends arguments', () => {
    assert.deepStrictEqual(portFlagsFor('prisma generate && cross-env NODE_ENV=dev vite', 3000), ['--port', '3000', '--strictPort']);
    assert.deepStrictEqual(portFlagsFor('vite & tsc -w', 3000), []);
  });

  it('uses the configured command as is, with ${port} replaced', () => {
    assert.deepStrictEqual(devServerCommand(project({ command: 'python3 -m http.server ${port}' }), 8123), {
      command: 'python3 -m http.server 8123',
      args: [],
      env: { PORT: '8123' },
      shell: true,
    });
  });

  it('refuses a project with neither script nor command', () => {
    assert.throws(() => devServerCommand(project({ script: undefined, scriptCommand: undefined }), 3000), InvalidInputError);
  });

  it('refuses an invalid port', () => {
    assert.throws(() => devServerCommand(project({}), 0), /Port must be an integer from 1 to 65535, got 0/);
  });

  it('records the framework found in the script or the dependencies', () => {
    const root = fs.mkdtempSync(path.join(require('os').tmpdir(), 'dev-ports-fw-'));
    try {
      writeTree(root, {
        'a/package.json': pkg('a', { dev: 'vite' }),
        'b/package.json': pkg('b', { dev: 'node scripts/dev.js' }, { dependencies: { next: '14' } }),
        'c/package.json': pkg('c', { dev: 'react-router dev' }, { devDependencies: { '@react-router/dev': '7', vite: '7' } }),
        'd/package.json': pkg('d', { dev: 'node server.js' }, { devDependencies: { '@react-router/dev': '7', vite: '7' } }),
      });
      const projects = discoverProjects([root]);
      assert.strictEqual(projects.find((p) => p.name === 'a')?.framework, 'vite');
      assert.strictEqual(projects.find((p) => p.name === 'b')?.framework, 'next');
      assert.strictEqual(projects.find((p) => p.name === 'c')?.framework, 'react-router');
      assert.strictEqual(projects.find((p) => p.name === 'd')?.framework, 'react-router');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
