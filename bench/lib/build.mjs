// Builds what the bench measures from source, into the bench's own gitignored folder, so the numbers are those of
// the bundled library users get and the repo's dist/ is never clobbered.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TMP = join(ROOT, '.bench-tmp');

const require = createRequire(import.meta.url);

/**
 * Bundles src/core/index.ts (bundle, platform node, cjs) to .bench-tmp/core.cjs and requires it.
 * @returns {Promise<{ lib: any, path: string, bytes: number, buildMs: number }>}
 */
export async function buildCore() {
  const esbuild = require('esbuild');
  mkdirSync(TMP, { recursive: true });
  const outfile = join(TMP, 'core.cjs');
  const t0 = performance.now();
  await esbuild.build({
    entryPoints: [join(ROOT, 'src/core/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    logLevel: 'silent',
  });
  const buildMs = performance.now() - t0;
  return { lib: require(outfile), path: outfile, bytes: statSync(outfile).size, buildMs };
}

/**
 * Bundles one internal module (for the profile notes, e.g. the /proc/net parser) to .bench-tmp/<name>.cjs and
 * requires it; undefined when the file does not exist.
 */
export async function buildInternal(relativeEntry, name) {
  const entry = join(ROOT, relativeEntry);
  if (!existsSync(entry)) return undefined;
  const esbuild = require('esbuild');
  const outfile = join(TMP, `${name}.cjs`);
  await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node18', logLevel: 'silent' });
  return require(outfile);
}

/**
 * Builds src/extension.ts with the options `node esbuild.js --production` uses (minified, no sourcemap,
 * vscode external) into .bench-tmp/extension.js.
 * @returns {Promise<{ bytes: number } | undefined>} undefined when src/extension.ts does not exist yet
 */
export async function buildExtension() {
  const entry = join(ROOT, 'src/extension.ts');
  if (!existsSync(entry)) return undefined;
  const esbuild = require('esbuild');
  mkdirSync(TMP, { recursive: true });
  const outfile = join(TMP, 'extension.js');
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    external: ['vscode'],
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    sourcesContent: false,
    logLevel: 'silent',
  });
  return { bytes: statSync(outfile).size };
}
