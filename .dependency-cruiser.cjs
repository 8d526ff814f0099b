/**
 * Dependency directions of claimtrail's rooms (docs/architecture.md has the table and the why).
 * Run by `npm run lint:deps` inside `npm test`. Each room may import only the rooms listed for it
 * in ROOMS; since that graph has no cycle, no two rooms can ever depend on each other.
 * `cli/`, `bench/`, `tests/` are composition roots and tools: they may import any room, and no
 * production room may import them or `stack/` (the local dev services).
 */

/** room -> rooms it may import (besides itself). Order follows the data flow. */
const ROOMS = {
  core: [],
  domain: ['core'],
  infra: ['core', 'domain'],
  fixtures: ['core', 'domain'],
  ingest: ['core', 'domain', 'infra'],
  scoring: ['core', 'domain', 'infra'],
  'anchoring/core': [],
  // anchoring/ itself holds the decision index (batches and leaves in PostgreSQL) that the chain side reads.
  anchoring: ['core', 'domain', 'infra', 'anchoring/core'],
  contracts: ['core'],
  'anchoring/chain': ['core', 'domain', 'infra', 'anchoring', 'anchoring/core', 'contracts'],
  privacy: ['core', 'domain', 'infra'],
  workers: ['core', 'domain', 'infra', 'anchoring', 'anchoring/core', 'anchoring/chain'],
  proofs: ['core', 'domain', 'infra', 'anchoring', 'anchoring/core', 'anchoring/chain', 'contracts'],
  // Label sources read the review app's verdicts and the decisions log.
  training: ['core', 'domain', 'infra', 'ingest', 'scoring', 'fixtures', 'privacy', 'proofs', 'review'],
  // scoring: only its view-time reason renderer (scoring/reason-text.ts), for the case view; see the rule below.
  review: ['core', 'domain', 'infra', 'scoring', 'anchoring', 'anchoring/core', 'anchoring/chain', 'contracts', 'privacy', 'proofs'],
  // Access monitoring reads the review app's audit log (outbox, users, pseudonyms) and the chain (trust anchor from proofs/); review/ never imports it.
  monitoring: ['core', 'domain', 'infra', 'ingest', 'anchoring', 'anchoring/core', 'anchoring/chain', 'contracts', 'proofs', 'review'],
  // The pure secure-aggregation core: node:crypto, canonical JSON and the error base only.
  'federation/secure-aggregation': ['core', 'anchoring/core'],
  // Federated training: trainers and bundles from training/ and scoring/, Kafka transport, the chain record.
  federation: ['core', 'domain', 'infra', 'fixtures', 'scoring', 'training', 'anchoring/core', 'anchoring/chain', 'anchoring', 'contracts', 'federation/secure-aggregation'],
  pipeline: ['core', 'domain', 'infra', 'ingest', 'scoring', 'anchoring', 'anchoring/core', 'anchoring/chain', 'contracts', 'privacy', 'workers', 'review', 'monitoring'],
  stack: ['core'],
};

/** Path regex of a room: its folder, without the sub-rooms listed separately. */
function roomPath(room) {
  if (room === 'anchoring') return '^anchoring/(?!core/|chain/)';
  if (room === 'contracts') return '^contracts/(?!test/)';
  if (room === 'federation') return '^federation/(?!secure-aggregation/)';
  return `^${room}/`;
}

const roomRules = Object.entries(ROOMS).map(([room, allowed]) => ({
  name: `room-${room.replace('/', '-')}`,
  comment: `${room}/ may import only: ${allowed.length ? allowed.join(', ') : 'nothing else of ours'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: roomPath(room) },
  to: {
    path: '^(core|domain|infra|fixtures|ingest|scoring|training|federation|anchoring|contracts|privacy|workers|proofs|review|monitoring|pipeline|stack|cli|bench|tests)/',
    pathNot: [roomPath(room), ...allowed.map(roomPath)],
  },
}));

module.exports = {
  forbidden: [
    ...roomRules,
    {
      name: 'review-renders-reasons-only',
      comment: 'The review app takes from scoring/ only the view-time reason renderer: it never scores, loads models or touches aggregates.',
      severity: 'error',
      from: { path: '^review/' },
      to: { path: '^scoring/', pathNot: '^scoring/reason-text\\.ts$' },
    },
    {
      name: 'production-never-imports-dev-rooms',
      comment: 'Production rooms never reach into the dev stack, the tests or the benchmarks: composition roots (cli/) wire dev implementations in.',
      severity: 'error',
      from: { pathNot: '^(bin|cli|bench|tests|stack|contracts/test)/' },
      to: { path: '^(stack|tests|bench|cli)/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles between modules.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|artifacts|cache|\\.state|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
