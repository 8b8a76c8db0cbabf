// ESLint (flat config): typescript-eslint's recommended rules, the conventions of
// /work/shared/DESIGN.md (no `any`, no non-null assertions, type-only imports marked), no import
// cycles, and the layer order of src/: a folder imports only the folders listed for it in LAYERS.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * What each part of src/ may import, the data flow of docs/EXTENDING.md: cli -> pipeline ->
 * stages (growth, train, eval, output, hub, inspect) -> foundations (backend, checkpoint, arch,
 * models, data) -> errors, util; cli sits on top of them all. Within the stages: train and output use growth's plan and
 * operator; nothing uses train, eval, output or hub but the pipeline and the CLI. Anything not
 * listed (another part of src/) is forbidden; a new folder must be added here.
 */
const LAYERS = {
  util: [],
  backend: ['errors'],
  checkpoint: ['errors', 'util'],
  data: ['errors', 'util'],
  arch: ['checkpoint', 'errors', 'util'],
  models: ['arch', 'data', 'backend', 'errors', 'util'],
  // growth materializes with tfjs ops, and like models takes a backend's fused kernel where it has one.
  growth: ['arch', 'backend', 'checkpoint', 'errors', 'util'],
  train: ['growth', 'arch', 'backend', 'checkpoint', 'models', 'data', 'errors', 'util'],
  eval: ['arch', 'backend', 'checkpoint', 'models', 'data', 'errors', 'util'],
  inspect: ['arch', 'checkpoint', 'errors', 'util'],
  output: ['growth', 'arch', 'checkpoint', 'errors', 'util'],
  hub: ['checkpoint', 'errors', 'util'],
  pipeline: ['growth', 'train', 'eval', 'output', 'hub', 'arch', 'backend', 'checkpoint', 'models', 'data', 'errors', 'util'],
  // The commands call the pipeline and render what the stages report; nothing below imports them.
  cli: ['pipeline', 'growth', 'eval', 'output', 'hub', 'inspect', 'arch', 'backend', 'checkpoint', 'errors', 'util', 'fixture'],
  fixture: ['growth'],
};
const PARTS = [...Object.keys(LAYERS), 'errors'];
const FILES = { errors: './src/errors.ts', fixture: './src/fixture.ts' };
const path = (part) => FILES[part] ?? `./src/${part}`;
const zones = Object.entries(LAYERS).flatMap(([part, allowed]) =>
  PARTS.filter((other) => other !== part && !allowed.includes(other)).map((other) => ({
    target: path(part),
    from: path(other),
    message: `src/${part} may import only ${allowed.join(', ') || 'nothing in src/'} (layer order: eslint.config.js LAYERS, docs/EXTENDING.md)`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.test-results/', 'bench/results/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // .ts files are modules import-x parses (else no-cycle cannot follow them), resolved as tsc does ('./x.js' -> x.ts).
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }],
    },
  },
);
