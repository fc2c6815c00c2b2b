// The import rules (docs/design.md, "Folders and imports"), checked by `npm run deps` in `npm test`.
// Type-only imports count: a circle of types is how circles of code start.

/** Folders whose code runs on both sides of the worker boundary: pure, or I/O a worker does itself. */
const BOTH_SIDES = [
  '^src/(market|lineprotocol|plan|request|influx|model)/',
  '^shared/',
  '^workers/',
  // the error catalogue and WriteError's retry decision, thrown and read by workers
  '^src/errors[.]ts$',
  // a sink's description (plain data) that each worker builds its own client from
  '^src/sink/target[.]ts$',
  // candle arithmetic, done in the workers when candles are regenerated
  '^src/candles/candle[.]ts$',
]

/** Node modules that do I/O or reach the process: never in the pure folders. */
const NODE_IO = '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|dns/promises|tls|child_process|cluster|worker_threads|os|process|readline|v8|vm|zlib|stream|perf_hooks)$'

/** Each layer, from the top, with the ones above it (that it must never import). */
const LAYERS = [
  { name: 'app', path: '^src/app/', above: '^src/(cli|api)/' },
  { name: 'capacity', path: '^src/capacity/', above: '^src/(cli|api|app)/' },
  { name: 'load', path: '^src/load/', above: '^src/(cli|api|app|capacity)/' },
  { name: 'store', path: '^src/store/', above: '^src/(cli|api|app|capacity|load)/' },
]

export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import circles anywhere: a type lives in the lowest layer that uses it (src/model)',
      from: { path: '^(src|workers|shared)/' },
      to: { circular: true },
    },
    {
      name: 'model-is-a-leaf',
      severity: 'error',
      comment: 'src/model imports nothing of ours (typebox only): everything else may take it',
      from: { path: '^src/model/' },
      to: { path: '^(src|workers|shared)/', pathNot: '^src/model/' },
    },
    ...LAYERS.map((l) => ({
      name: `layers-${l.name}`,
      severity: 'error',
      comment: `cli, api -> app -> capacity -> load -> store -> model: ${l.name} never imports a layer above it`,
      from: { path: l.path },
      to: { path: l.above },
    })),
    {
      name: 'faces-not-the-pool',
      severity: 'error',
      comment: 'cli and api format and validate; the worker pool is reached through app, capacity and load',
      from: { path: '^src/(cli|api)/' },
      to: { path: '^workers/' },
    },
    {
      name: 'workers-not-main-thread',
      severity: 'error',
      comment: 'workers/ takes only what runs on both sides: never the coordinator, loads, store, metrics, API or CLI',
      from: { path: '^workers/' },
      to: { path: '^(src|shared|workers)/', pathNot: BOTH_SIDES },
    },
    {
      name: 'shared-not-main-thread-nor-workers',
      severity: 'error',
      comment: 'shared/ (memory layouts, messages, policies) is below both sides: it takes the model and the sink description only',
      from: { path: '^shared/' },
      to: { path: '^(src|workers)/', pathNot: ['^src/model/', '^src/sink/target[.]ts$'] },
    },
    {
      name: 'pure-market-plan',
      severity: 'error',
      comment: 'src/market and src/plan are pure: nothing outside market, plan and model',
      from: { path: '^src/(market|plan)/' },
      to: { path: '^(src|workers|shared)/', pathNot: '^src/(market|plan|model)/' },
    },
    {
      name: 'pure-market-plan-no-io',
      severity: 'error',
      comment: 'src/market and src/plan do no I/O: the same seed gives the same bytes anywhere',
      from: { path: '^src/(market|plan)/' },
      to: { dependencyTypes: ['core'], path: NODE_IO },
    },
    {
      name: 'console-takes-only-the-model',
      severity: 'error',
      comment: 'src/console is browser code: it takes src/model (types) and its npm packages, never Node code',
      from: { path: '^src/console/' },
      to: { path: '^(src|workers|shared)/', pathNot: '^src/(console|model)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.d.ts'],
    },
  },
}
