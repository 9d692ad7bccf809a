// Test-only entry of a render worker when the hub runs from its TypeScript sources (vitest): compiles
// the worker and what it imports on the fly, then lets the compiler go. The built hub uses
// render-worker.js instead. TypeScript's own transpiler rather than SWC: SWC's native binding crashes
// the process when a worker that loaded it is terminated, which is how the pool stops renders.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS require hook: require is what it is about */
const { readFileSync, existsSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
let ts = require('typescript');

const PROTO_SOURCE = join(__dirname, '../../../proto/src/index.ts');
const resolveFilename = Module._resolveFilename;
// Like vitest's aliases: @flotilla/proto from its sources; `./x.js` imports of sources to `./x.ts`.
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === '@flotilla/proto') return PROTO_SOURCE;
  if (parent && parent.filename && parent.filename.endsWith('.ts') && request.startsWith('.') && request.endsWith('.js')) {
    const source = join(parent.filename, '..', request.replace(/\.js$/, '.ts'));
    if (existsSync(source)) return source;
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
  });
  module._compile(outputText, filename);
};

// Every import of the worker is static: once it is loaded, the compiler is no longer needed, and its
// memory must not count against the worker's heap limit.
module.exports = require('./render-worker.ts');
delete require.extensions['.ts'];
Module._resolveFilename = resolveFilename;
ts = undefined;
for (const key of Object.keys(require.cache)) if (key.includes('/node_modules/typescript/')) delete require.cache[key];
