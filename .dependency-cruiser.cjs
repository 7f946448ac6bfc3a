/**
 * The layers of Switchboard (README "Layout", issue 20), checked by `npm run lint`:
 * core → connectors → server / client → cli. Test files (`*.test.ts`) may reach across layers;
 * the code they test may not.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const { builtinModules } = require('node:module');

const TEST = '\\.test\\.ts$';
/** What a Node built-in resolves to: `node:net`, `fs`, `fs/promises`. */
const NODE_BUILTIN = `^(node:.+|${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`;

module.exports = {
  forbidden: [
    {
      name: 'core-no-node-builtins',
      comment: 'src/core runs in browsers and in the SQLite writer thread: it imports no Node built-in.',
      severity: 'error',
      from: { path: '^src/core/', pathNot: TEST },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-imports-only-core',
      comment: 'src/core imports nothing outside src/core but zod and canonicalize.',
      severity: 'error',
      from: { path: '^src/core/', pathNot: TEST },
      to: { dependencyTypesNot: ['core'], pathNot: ['^src/core/', '(^|/)node_modules/(zod|canonicalize)/'] },
    },
    {
      name: 'connector-not-another-connector',
      comment: 'A connector folder imports the core and src/connectors/*.ts, never another connector folder.',
      severity: 'error',
      from: { path: '^src/connectors/([^/]+)/', pathNot: TEST },
      to: { path: '^src/connectors/[^/]+/', pathNot: '^src/connectors/$1/' },
    },
    {
      name: 'connector-not-server',
      comment: 'Connectors are used by the server, the client and the CLI; they import none of them.',
      severity: 'error',
      from: { path: '^src/connectors/', pathNot: TEST },
      to: { path: '^src/(server|client|cli)/' },
    },
    {
      name: 'client-not-server',
      comment: 'The browser module imports no server or CLI code.',
      severity: 'error',
      from: { path: '^src/client/', pathNot: TEST },
      to: { path: '^src/(server|cli)/' },
    },
    {
      name: 'client-pure',
      comment: 'The browser module reaches no Node built-in, however indirectly (it imports only pure modules).',
      severity: 'error',
      from: { path: '^src/client/', pathNot: TEST },
      to: { path: NODE_BUILTIN, reachable: true },
    },
    {
      name: 'server-not-cli',
      comment: 'The server is a library the CLI starts; it never imports the CLI.',
      severity: 'error',
      from: { path: '^src/server/', pathNot: TEST },
      to: { path: '^src/cli/' },
    },
    {
      name: 'database-driver-only-in-a-backend',
      comment: 'No database handle outside the store backends (src/server/store/<backend>/).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/server/store/[^/]+/', TEST] },
      to: { path: '(^|/)node_modules/(better-sqlite3|pg|postgres)/' },
    },
    {
      name: 'no-cycle',
      comment: 'No import cycle, type-only imports included.',
      severity: 'error',
      from: { pathNot: TEST },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)fixtures/', '^dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    skipAnalysisNotInRules: false,
  },
};
