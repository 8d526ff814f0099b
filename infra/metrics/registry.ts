import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS } from './names.ts';

/** Buckets of durations in seconds (1 ms .. 60 s). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Buckets of anchor lags in seconds (a block on a dev chain .. an hour of fee bumping). */
const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const BATCH_AGE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

function counter<L extends string>(m: { name: string; help: string; labels: readonly L[] }, registry: Registry): Counter<L> {
  return new Counter({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry] });
}
function gauge<L extends string>(m: { name: string; help: string; labels: readonly L[] }, registry: Registry): Gauge<L> {
  return new Gauge({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry] });
}
function histogram<L extends string>(m: { name: string; help: string; labels: readonly L[] }, buckets: number[], registry: Registry): Histogram<L> {
  return new Histogram({ name: m.name, help: m.help, labelNames: m.labels, buckets, registers: [registry] });
}

/** The collectors of one process, each named in names.ts. */
export function createMetrics(registry = new Registry()) {
  return {
    registry,
    claimsConsumed: counter(METRICS.claimsConsumed, registry),
    decisions: counter(METRICS.decisions, registry),
    dlq: counter(METRICS.dlq, registry),
    stageDuration: histogram(METRICS.stageDuration, DURATION_BUCKETS, registry),
    batchSize: histogram(METRICS.batchSize, BATCH_SIZE_BUCKETS, registry),
    batchAge: histogram(METRICS.batchAge, BATCH_AGE_BUCKETS, registry),
    batchesPending: gauge(METRICS.batchesPending, registry),
    batchesAnchored: counter(METRICS.batchesAnchored, registry),
    anchorLag: histogram(METRICS.anchorLag, LAG_BUCKETS, registry),
    anchorTransactions: counter(METRICS.anchorTransactions, registry),
    anchorGasUsed: counter(METRICS.anchorGasUsed, registry),
    anchorFeePaid: counter(METRICS.anchorFeePaid, registry),
    chainReorgs: counter(METRICS.chainReorgs, registry),
    signerBalance: gauge(METRICS.signerBalance, registry),
    consumerLag: gauge(METRICS.consumerLag, registry),
    redisAggregateDuration: histogram(METRICS.redisAggregateDuration, DURATION_BUCKETS, registry),
    reviewQueueDepth: gauge(METRICS.reviewQueueDepth, registry),
    reviewSlaBreaches: gauge(METRICS.reviewSlaBreaches, registry),
    accessEvents: counter(METRICS.accessEvents, registry),
    accessDlq: counter(METRICS.accessDlq, registry),
    monitorAlerts: counter(METRICS.monitorAlerts, registry),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The process's metrics: one registry per process, with Node's default process metrics
 * (`claimtrail_process_*`, `claimtrail_nodejs_*`). Stages call these collectors directly (thin
 * calls); the metrics server (server.ts) serves the registry.
 */
export const metrics: Metrics = createMetrics();
collectDefaultMetrics({ register: metrics.registry, prefix: 'claimtrail_' });

/** Seconds since `start` (a `performance.now()` value). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/** A bigint (wei, gas) added to a counter: float precision is enough for a rate. */
export function incBig(c: Counter, value: bigint): void {
  if (value > 0n) c.inc(Number(value));
}
