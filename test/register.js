// Lets mocha load TypeScript tests directly: esbuild transpiles each .ts file on require (no type check;
// `npm run typecheck` does that).
const { transformSync } = require('esbuild');
const fs = require('fs');

require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: filename,
  });
  module._compile(code, filename);
};
