// Profiles ScoringStage.handle + batch close on real PG/Redis (bench/stage-timings.ts) under --cpu-prof.
import { createLogger } from '../core/logger.ts';
import { benchConfig } from '../bench/support.ts';
import { stageTimings } from '../bench/stage-timings.ts';
import { createKafka } from '../infra/kafka/kafka.ts';
import { Scorer } from '../scoring/scorer.ts';
const log = createLogger('warn');
const config = benchConfig({ MODEL_DIR: '/tmp/soak2/model' });
const kafka = createKafka(config, log, '-prof');
const scorer = await Scorer.load('/tmp/soak2/model');
const { encodeClaims } = await import('../bench/claims-feed.ts'); const claims = encodeClaims(12000, 5);
const t = await stageTimings(kafka, config, scorer, claims as never, 1000, 10, log);
console.log(JSON.stringify(t));
const { metrics } = await import('../infra/metrics/registry.ts');
for (const h of [metrics.stageDuration, metrics.redisAggregateDuration]) { const v = await h.get(); for (const x of v.values) if (x.metricName?.endsWith('_sum') || x.metricName?.endsWith('_count')) console.log(x.metricName, JSON.stringify(x.labels), x.value); }
process.exit(0);
