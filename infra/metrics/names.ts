/**
 * Every Prometheus metric claimtrail exports, by name, with its type, help and label names.
 * The one place these names are spelled: the registry (infra/metrics/registry.ts) builds its
 * collectors from it and deploy/ alert rules and dashboards reference it. Labels are low
 * cardinality only: never claim, member, provider or batch ids.
 */
export const METRIC_PREFIX = 'claimtrail_';

export const METRICS = {
  claimsConsumed: {
    name: 'claimtrail_claims_consumed_total',
    type: 'counter',
    help: 'Claim messages consumed by the scoring stage (valid and invalid).',
    labels: [],
  },
  decisions: {
    name: 'claimtrail_decisions_total',
    type: 'counter',
    help: 'Decisions written to the decisions topic, by outcome (approve, review, flag).',
    labels: ['outcome'],
  },
  dlq: {
    name: 'claimtrail_dlq_total',
    type: 'counter',
    help: 'Messages sent to the dead-letter topic, by reason code.',
    labels: ['reason'],
  },
  stageDuration: {
    name: 'claimtrail_stage_duration_seconds',
    type: 'histogram',
    help: 'Duration of one pipeline step: decode, score, transaction (scoring stage) and batch_close (batching stage).',
    labels: ['stage'],
  },
  batchSize: {
    name: 'claimtrail_batch_size',
    type: 'histogram',
    help: 'Decisions in each closed anchoring batch.',
    labels: [],
  },
  batchAge: {
    name: 'claimtrail_batch_age_seconds',
    type: 'histogram',
    help: 'Age of an anchoring batch (first decision seen to close) when it closes.',
    labels: [],
  },
  batchesPending: {
    name: 'claimtrail_batches_pending',
    type: 'gauge',
    help: 'Batches recorded in the decision index and not yet anchored.',
    labels: [],
  },
  batchesAnchored: {
    name: 'claimtrail_batches_anchored_total',
    type: 'counter',
    help: 'Batches whose root was anchored on chain.',
    labels: [],
  },
  anchorLag: {
    name: 'claimtrail_anchor_lag_seconds',
    type: 'histogram',
    help: 'Time from sending an anchor transaction until it is mined or confirmed.',
    labels: ['to'],
  },
  anchorTransactions: {
    name: 'claimtrail_anchor_transactions_total',
    type: 'counter',
    help: 'Anchor transaction attempts by state reached: sent, bumped (a fee-bumped replacement sent), replaced, mined, confirmed, failed, reorged.',
    labels: ['state'],
  },
  anchorGasUsed: {
    name: 'claimtrail_anchor_gas_used_total',
    type: 'counter',
    help: 'Gas used by mined anchor transactions.',
    labels: [],
  },
  anchorFeePaid: {
    name: 'claimtrail_anchor_fee_paid_wei_total',
    type: 'counter',
    help: 'Fees paid (gas used x effective gas price) by mined anchor transactions, in wei.',
    labels: [],
  },
  chainReorgs: {
    name: 'claimtrail_chain_reorgs_total',
    type: 'counter',
    help: 'Anchor transactions found dropped from the canonical chain after being mined.',
    labels: [],
  },
  signerBalance: {
    name: 'claimtrail_signer_balance_wei',
    type: 'gauge',
    help: 'Balance of the anchoring signer, in wei (sampled).',
    labels: [],
  },
  consumerLag: {
    name: 'claimtrail_consumer_lag',
    type: 'gauge',
    help: 'Messages between the committed offset of a consumer group and the high watermark (sampled).',
    labels: ['group', 'topic', 'partition'],
  },
  redisAggregateDuration: {
    name: 'claimtrail_redis_aggregate_duration_seconds',
    type: 'histogram',
    help: 'Duration of the atomic entity-aggregate read-and-update in Redis, per scored batch.',
    labels: [],
  },
  reviewQueueDepth: {
    name: 'claimtrail_review_queue_depth',
    type: 'gauge',
    help: 'Open review cases, by queue (sampled).',
    labels: ['queue'],
  },
  reviewSlaBreaches: {
    name: 'claimtrail_review_sla_breaches',
    type: 'gauge',
    help: 'Open review cases past their SLA (sampled).',
    labels: [],
  },
  accessEvents: {
    name: 'claimtrail_access_events_total',
    type: 'counter',
    help: 'Access events recorded by the monitor, by outcome: explained, unexplained (PHI access no work context accounts for), not_phi.',
    labels: ['outcome'],
  },
  accessDlq: {
    name: 'claimtrail_access_dlq_total',
    type: 'counter',
    help: 'Access events dead-lettered by the monitor, by reason code (ACCESS_EVENT_*).',
    labels: ['reason'],
  },
  monitorAlerts: {
    name: 'claimtrail_monitor_alerts_total',
    type: 'counter',
    help: 'Alerts raised by the monitor, by kind (chain, access) and severity (high, medium).',
    labels: ['kind', 'severity'],
  },
} as const satisfies Record<string, { name: string; type: 'counter' | 'gauge' | 'histogram'; help: string; labels: readonly string[] }>;

export type MetricKey = keyof typeof METRICS;

/** Values of the low-cardinality labels, for dashboards and alerts. */
export const METRIC_LABEL_VALUES = {
  stage: ['decode', 'score', 'transaction', 'batch_close'],
  anchorLagTo: ['mined', 'confirmed'],
} as const;

/** HTTP endpoints every process serves when METRICS_PORT is set. */
export const METRICS_ENDPOINTS = { metrics: '/metrics', healthz: '/healthz', readyz: '/readyz' } as const;
