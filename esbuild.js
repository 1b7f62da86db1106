// Bundles the three entry points: the extension (vscode external), the CLI and the core library.
// `--production` minifies, `--watch` rebuilds on change (esbuild-sample style).
const path = require('path');
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints errors in the `file:line:col: error: message` form VS Code's esbuild problem matcher reads. */
const problemMatcherPlugin = {
  name: 'esbuild-problem-matcher',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log('[watch] build started');
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log('[watch] build finished');
    });
  },
};

/**
 * src/core/frameworks.ts fills a lookup table at load (its only top-level effect, read by its own functions), so
 * esbuild keeps the whole framework table in any bundle that imports src/core/projects.ts, even for
 * normalizeProjectId alone. Declared free of side effects, it is left out where none of its functions is used:
 * dist/extension.js (discovery and the command line are dist/discovery.js). Where a function of it is used, the
 * whole module, table filling included, is bundled as before.
 */
const pureModulesPlugin = {
  name: 'pure-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\/frameworks$/ }, (args) => {
      if (path.basename(args.resolveDir) !== 'core') return undefined;
      return { path: path.join(args.resolveDir, 'frameworks.ts'), sideEffects: false };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
  plugins: [problemMatcherPlugin, pureModulesPlugin],
};

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // Parts of the extension that activation does not run, loaded with require() on first use (src/vscode/lazy.ts):
  // activation parses less (issue 10, row 6). They import no src/os and no stateful core module: a second bundle
  // would hold its own copy of that state, so the OS layer and the services come in as arguments.
  { ...common, entryPoints: ['src/vscode/agents.ts'], outfile: 'dist/agents.js', external: ['vscode'] },
  { ...common, entryPoints: ['src/vscode/extras.ts'], outfile: 'dist/extras.js', external: ['vscode'] },
  { ...common, entryPoints: ['src/vscode/discovery.ts'], outfile: 'dist/discovery.js', external: ['vscode'] },
  // The CLI is always minified: every `dev-ports` call parses the whole bundle before doing anything (issue 10).
  // The MCP server (and its SDK, ~330 KB) is its own file, loaded only by `dev-ports mcp`: in dist/cli.js every
  // other command would compile it at start (~15 ms of a `dev-ports reserve`, issue 10).
  { ...common, minify: true, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: ['./mcpServer'] },
  { ...common, minify: true, entryPoints: ['src/cli/mcpServer.ts'], outfile: 'dist/mcpServer.js' },
  { ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js' },
];

async function main() {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  const results = await Promise.allSettled(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    process.exitCode = 1;
  }
}

/**
 * The extension's bundles (dist/extension.js and the parts it loads on first use) with the options of this run:
 * the benchmark (bench/rows/extension.mjs, `{ production: true }`) and a unit test build them the same way into
 * their own folders.
 */
function extensionBuilds({ production: prod = production } = {}) {
  return builds.filter((b) => b.external?.includes('vscode')).map((b) => ({ ...b, minify: prod, sourcemap: !prod }));
}

module.exports = { extensionBuilds };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
