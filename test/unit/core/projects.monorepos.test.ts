import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { devServerCommand, discoverProjects, discoverProjectsAsync } from '../../../src/core/projects';

const MONOREPOS = path.join(__dirname, '..', '..', 'fixtures', 'monorepos');

describe('discovery on monorepo shapes (test/fixtures/monorepos)', () => {
  it('create-t3-turbo: the turbo root is an orchestrator, tsc packages are watchers, apps are servers', () => {
    const projects = discoverProjects([path.join(MONOREPOS, 'create-t3-turbo')]);
    const roles = Object.fromEntries(projects.map((p) => [p.relativePath, p.role]));
    assert.deepStrictEqual(roles, {
      '': 'orchestrator',
      'apps/expo': 'server',
      'apps/nextjs': 'server',
      'apps/tanstack-start': 'server',
      'packages/api': 'watcher',
      'packages/db': 'watcher',
      'packages/validators': 'watcher',
    });
    assert.ok(projects.every((p) => p.packageManager === 'pnpm'));
  });

  it('create-t3-turbo: vite dev behind pnpm with-env gets its port, next dev gets PORT', () => {
    const projects = discoverProjects([path.join(MONOREPOS, 'create-t3-turbo')]);
    const start = projects.find((p) => p.relativePath === 'apps/tanstack-start')!;
    assert.strictEqual(start.framework, 'vite');
    assert.deepStrictEqual(devServerCommand(start, 3100).args, ['run', 'dev', '--port', '3100', '--strictPort']);
    const next = projects.find((p) => p.relativePath === 'apps/nextjs')!;
    assert.strictEqual(next.framework, 'next');
    assert.deepStrictEqual(devServerCommand(next, 3101), { command: 'pnpm', args: ['run', 'dev'], env: { PORT: '3101' } });
  });

  it('vite playgrounds: 94 projects; same names get their relative path in the label', () => {
    const projects = discoverProjects([path.join(MONOREPOS, 'vite-playgrounds')]);
    assert.strictEqual(projects.length, 94);
    const labels = projects.map((p) => p.label);
    assert.strictEqual(new Set(labels).size, labels.length, 'labels are unique');
    assert.ok(labels.includes('vite-qwik (packages/create-vite/template-qwik)'));
    assert.ok(labels.includes('vite-qwik (packages/create-vite/template-qwik-ts)'));
    assert.ok(labels.includes('@vitejs/test-hmr (playground/module-graph)'));
    assert.strictEqual(projects.find((p) => p.name === 'vite-react-starter')?.label, 'vite-react-starter');
    assert.strictEqual(projects.find((p) => p.relativePath === '')?.role, 'orchestrator');
    assert.deepStrictEqual(
      projects.filter((p) => p.role === 'watcher').map((p) => p.relativePath),
      ['packages/create-vite', 'packages/plugin-legacy', 'packages/vite'],
    );
  });

  it('discoverProjectsAsync returns what discoverProjects returns', async () => {
    for (const repo of ['create-t3-turbo', 'vite-playgrounds']) {
      const folder = path.join(MONOREPOS, repo);
      assert.deepStrictEqual(await discoverProjectsAsync([folder]), discoverProjects([folder]), repo);
    }
  });

  it('a folder whose only server script is storybook is a Storybook project', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-ports-sb-'));
    try {
      fs.mkdirSync(path.join(dir, 'ui'));
      fs.writeFileSync(path.join(dir, 'ui', 'package.json'), JSON.stringify({ name: 'ui', scripts: { storybook: 'storybook dev', build: 'tsc' } }));
      fs.mkdirSync(path.join(dir, 'web'));
      fs.writeFileSync(path.join(dir, 'web', 'package.json'), JSON.stringify({ name: 'web', scripts: { dev: 'vite', storybook: 'storybook dev' } }));
      const projects = discoverProjects([dir]);
      assert.deepStrictEqual(projects.map((p) => [p.name, p.script, p.framework]), [['ui', 'storybook', 'storybook'], ['web', 'dev', 'vite']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
