/**
 * `npm run lint` runs this: the module boundaries of STYLE.md, checked.
 * - no import cycles;
 * - a domain (a folder under src/) is reached from outside only through its index.ts;
 * - nothing in src/ but the entry points (src/cli/) imports src/app.ts, which only composes domains.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle ties modules together so that neither can change alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-through-index',
      comment: "Another folder's internals are reached only through its index.ts.",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'root-through-index',
      comment: 'The composition root (app.ts and the files beside it) uses domains through their index.ts too.',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'nothing-imports-app',
      comment: 'app.ts composes the domains; only the entry points (the CLI) build it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/main\\.ts$', '^src/app\\.ts$'] },
      to: { path: '^src/app\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
