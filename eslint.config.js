// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins and I/O libraries that must never reach workflow code (it is replayed). */
const workflowForbiddenImports = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'http',
  'https',
  'net',
  'child_process',
  'crypto',
  'ky',
  '@aws-sdk/*',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '**/activities/index.js',
  '**/store/*',
  '**/vendor-api/client.js',
  '**/sim/*',
];

/*
 * The layers of src/ (docs/architecture.md, "Code layout"): every import points down. Each
 * pattern is a regular expression over the import's text, as written from a file one folder
 * below src/ ('../shared/x.js'). Flat config applies the last matching block's options only,
 * so each block lists every restriction its files have (entryPoints included).
 */

/** Nothing imports an entry point: the worker, the client, the CLI, the feed service. */
const entryPoints = {
  regex: String.raw`^\.\./((worker|client)\.js|cli/.*|feed/service\.js)$|^\./service\.js$`,
  message:
    'Nothing imports an entry point: move what both need into a module below them (docs/architecture.md, "Code layout").',
};

/** The same, from a file directly in src/. */
const entryPointsFromTop = {
  ...entryPoints,
  regex: String.raw`^\./((worker|client)\.js|cli/.*|feed/service\.js)$`,
};

/** The same, for the feed service: an entry point itself, it starts its consumers with the client. */
const entryPointsButClient = {
  ...entryPoints,
  regex: String.raw`^\.\./(worker\.js|cli/.*)$`,
};

/**
 * The local stack's settings are for scripts/ (npm start, the benchmark) only: no module of src/
 * loads them, so a deployed process never reads a local-stack default.
 */
const localStack = {
  regex: String.raw`^\.\.?/(config/)?local-stack\.js$`,
  message:
    "src/config/local-stack.ts is the local stack's (scripts/ only): production code reads its own concern's module of src/config/.",
};

/** `regex` restricted with a message naming the layer rule it breaks. */
const below = (regex, rule) => ({
  regex,
  message: `${rule} (docs/architecture.md, "Code layout").`,
});

/** The layer blocks: files, and the imports they must not make besides entry points. */
const layerBlocks = [
  {
    files: ['src/shared/**'],
    patterns: [
      below(String.raw`^\.\./`, 'shared/ is pure and imports nothing else of src/'),
      {
        group: workflowForbiddenImports,
        message:
          'shared/ is workflow-safe: no Node built-ins or I/O. Put Node-side code in src/node/ or src/config/.',
        allowTypeImports: true,
      },
    ],
  },
  {
    files: ['src/config/**', 'src/node/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/)`,
        'config/ (the settings) and node/ (Node-side helpers) import only shared/',
      ),
    ],
  },
  {
    files: ['src/metrics/**', 'src/codec/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/|config/|node/)`,
        'metrics/ and codec/ stand alone: they import only shared/, config/ and node/',
      ),
    ],
  },
  {
    files: ['src/vendor-api/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/|config/|node/|metrics/)`,
        'The vendor API client is the lowest integration: it imports only shared/, config/, node/ and metrics/',
      ),
    ],
  },
  {
    files: ['src/store/**', 'src/landing/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/|config/|node/|metrics/|vendor-api/)`,
        'The store and the landing zone import only shared/, config/, node/, metrics/ and the vendor API',
      ),
    ],
  },
  {
    files: ['src/sql/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/|config/|node/|metrics/|store/)`,
        "sql/ is the change feed's PostgreSQL part, below it: it imports only shared/, config/, node/, metrics/ and the store",
      ),
    ],
  },
  {
    files: ['src/feed/*.ts'],
    ignores: ['src/feed/activities.ts', 'src/feed/worker.ts', 'src/feed/service.ts', 'src/feed/types.ts'],
    patterns: [
      below(
        String.raw`^\.\./(activities|workflows|cli)/|^\.\./[^/]+\.js$|^\./(activities|worker|service)\.js$`,
        "The change feed's integration code imports no activity, workflow, worker or entry point",
      ),
    ],
  },
  {
    files: ['src/activities/types.ts', 'src/feed/types.ts'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/)|^\./(?!types\.js$)`,
        'Activity contracts are type-only and import only shared/, so workflows can import them',
      ),
    ],
  },
  {
    files: ['src/activities/**', 'src/feed/activities.ts'],
    ignores: ['src/activities/types.ts'],
    patterns: [
      below(
        String.raw`^\.\./(workflows|cli)/|^\.\./[^/]+\.js$|^\./(worker|service)\.js$`,
        "Activities import no workflow, worker or entry point (workflows import the activities' types, not the reverse)",
      ),
    ],
  },
  {
    files: ['src/sim/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/|vendor-api/schemas\.js$)`,
        "The simulator is a vendor, not the product: it imports only shared/ and the vendor's schemas, never the production config (config/)",
      ),
    ],
  },
  {
    files: ['src/client/**'],
    patterns: [
      below(
        String.raw`^\.\./(?!shared/|codec/|workflows/(index|types)\.js$)`,
        "The client's operations import only shared/, codec/ and the workflows (their names, queries and input types)",
      ),
    ],
  },
  {
    files: ['src/workflow-bundle.ts', 'src/shutdown.ts'],
    patterns: [
      below(
        String.raw`^\./(?!shared/|config/|node/)`,
        'The workflow bundler and the stop are infrastructure: they import only shared/, config/ and node/',
      ),
    ],
  },
  {
    files: ['src/workflows/**/*.ts', 'src/metrics/run.ts'],
    patterns: [
      {
        group: workflowForbiddenImports,
        message:
          'Workflow code is deterministic: no Node built-ins or I/O. Use activities (import type only).',
        allowTypeImports: true,
      },
      below(
        String.raw`^\.\./(?!shared/|activities/types\.js$|feed/types\.js$|metrics/(run|definitions)\.js$)`,
        "Workflows import only shared/, the activities' contracts (import type), metrics/run.ts and metrics/definitions.ts",
      ),
    ],
  },
];

/** One `no-restricted-imports` block per layer; entry points and the local stack's settings are restricted everywhere in src/. */
const layerRules = [
  {
    files: ['src/*/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [entryPoints, localStack] }] },
  },
  {
    files: ['src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [entryPointsFromTop, localStack] }] },
  },
  {
    files: ['src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [localStack] }] },
  },
  {
    files: ['src/feed/service.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [entryPointsButClient] }] },
  },
  ...layerBlocks.map(({ files, ignores, patterns }) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, entryPoints, localStack] }] },
  })),
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'dist/', 'bench-results/', '.build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'scripts/*.mjs', 'src/node/*.mjs', 'test/helpers/*.cjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...layerRules,
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
  },
);
