import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { sealRootOnChain } from '../anchoring/chain/seal-root.ts';
import { metrics } from '../infra/metrics/registry.ts';
import { every } from '../infra/metrics/samplers.ts';
import { startMetricsServer } from '../infra/metrics/server.ts';
import { EpochRepository } from '../anchoring/epoch.repository.ts';
import { connectProvider } from '../anchoring/chain/provider.ts';
import { ClaimPayloadRepository } from '../privacy/claim-payload.repository.ts';
import { DecisionIndexRepository } from '../anchoring/decision-index.repository.ts';
import { migrate } from '../infra/db/migrate.ts';
import { createPool } from '../infra/db/pool.ts';
import { createKafka } from '../infra/kafka/kafka.ts';
import { openMemberKeys, type MasterKeySource } from '../privacy/master-key.ts';
import { configuredTrustAnchor } from '../proofs/configured-trust.ts';
import { FlaggedRootRepository } from '../anchoring/flagged-root.repository.ts';
import { ProofService } from '../proofs/proof.service.ts';
import { type Clock, systemClock } from './clock.ts';
import type { ReviewConfig } from './config.ts';
import { buildReviewApp } from './http/app.ts';
import type { IndexKeySource } from './identifier-key.ts';
import { AttachmentRepository } from './repositories/attachment.repository.ts';
import { AuditRepository } from './repositories/audit.repository.ts';
import { AuditSealRepository } from './repositories/audit-seal.repository.ts';
import { CaseIndexRepository } from './repositories/case-index.repository.ts';
import { CaseRepository } from './repositories/case.repository.ts';
import { UserRepository } from './repositories/user.repository.ts';
import type { AuditSealAnchoring } from './services/audit-seal.anchoring.ts';
import { AuditSealService } from './services/audit-seal.service.ts';
import { ConcurrencyGate } from './auth/concurrency-gate.ts';
import { AuthService } from './services/auth.service.ts';
import { CaseIdentifierIndex } from './services/case-identifier-index.ts';
import { CaseService } from './services/case.service.ts';
import { ComplianceService } from './services/compliance.service.ts';
import { AlertService } from './services/alert.service.ts';
import { ComplianceAlertRepository } from './repositories/compliance-alert.repository.ts';
import { AccessPseudonyms } from './audit/access-pseudonyms.ts';
import { KafkaVerdictSink, VerdictPublisher } from './services/verdict.publisher.ts';

/** How often the verdict outbox is swept for dispositions whose publishing failed. */
const OUTBOX_SWEEP_MS = 30_000;

export interface RunningReviewServer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  publisher: VerdictPublisher;
  seals: AuditSealService;
  stop(): Promise<void>;
}

/** What the composition root plugs into the review app. */
/** How often the review queues' depth and SLA breaches are sampled for /metrics, ms. */
const REVIEW_SAMPLE_MS = 15_000;

export interface ReviewServerDeps {
  /** The PHI master key, for the role-checked case view's claim payloads. */
  masterKey: MasterKeySource;
  /** Where sealed audit batches go to be anchored (the pipeline's anchor queue); the caller closes it after `stop()`. */
  anchoring: AuditSealAnchoring;
  /** The HMAC key of the case identifier index (member / NPI search). */
  indexKey: IndexKeySource;
  /**
   * The app's clock (review/clock.ts): audit entries' `at`, session and token expiry, case take /
   * disposition times. Default the system clock; only the access-monitoring simulator injects
   * another (bench/access-sim/). Sealing, rate limits, the login throttle and the SLA breach
   * flags of queue counts and case lists (computed in SQL) keep real time.
   */
  clock?: Clock;
}

/**
 * Starts the review app over the shared config (database, Kafka, chain) and the review config:
 * migrations, the verdicts producer (and a sweep of the outbox), the HTTP server.
 * @param port overrides REVIEW_PORT (0 picks a free port).
 */
export async function startReviewServer(
  config: Readonly<Config>,
  review: Readonly<ReviewConfig>,
  log: Logger,
  deps: ReviewServerDeps,
  port = review.port,
): Promise<RunningReviewServer> {
  await migrate(config.database.url, config.database.schema, log);
  const pool = createPool(config.database.url, config.database.schema);
  const provider = await connectProvider(config.chain.rpcUrl);
  const sink = new KafkaVerdictSink(createKafka(config, log, '-review'), review.verdictsTopic);
  const stops: Array<() => Promise<unknown> | void> = [() => pool.end(), () => provider.destroy()];
  try {
    await sink.connect();
    stops.unshift(() => sink.disconnect());
    const index = new DecisionIndexRepository(pool);
    const users = new UserRepository(pool);
    const clock = deps.clock ?? systemClock;
    const audit = new AuditRepository(pool, clock);
    // Decrypts claim payloads only inside CaseRepository.claimPayload (the role-checked case view),
    // and salts only for compliance's explicit bundle request (ComplianceService.bundle).
    const payloads = new ClaimPayloadRepository(pool, await openMemberKeys(pool, deps.masterKey, log.child({ component: 'privacy' })));
    const cases = new CaseRepository(pool, payloads);
    const publisher = new VerdictPublisher(cases, sink, log.child({ component: 'verdicts' }));
    const auth = new AuthService({ users, audit, sessionHours: review.sessionHours, tokenDefaultDays: review.tokenDefaultDays, tokenMaxDays: review.tokenMaxDays, scryptGate: new ConcurrencyGate({ concurrency: review.loginConcurrency, maxQueued: 16 * review.loginConcurrency }), clock });
    const indexKey = deps.indexKey.indexKey(log);
    const identifiers = new CaseIdentifierIndex(indexKey, new CaseIndexRepository(pool));
    // The monitor's alerts and the accounting of disclosures (member ids as access pseudonyms under the same key).
    const alerts = new AlertService({ pool, alerts: new ComplianceAlertRepository(pool), audit, pseudonyms: new AccessPseudonyms(indexKey) });
    // Cases opened while the server was down (or hashed under an earlier key) get their hashes now.
    const hashed = await identifiers.fill({ rehash: true });
    log.info({ cases: hashed, keyId: identifiers.keyId }, 'case identifier index up to date');
    const caseService = new CaseService({ pool, cases, users, audit, index, verdicts: publisher, attachments: new AttachmentRepository(pool), identifiers, chainHead: async () => BigInt(await provider.getBlockNumber()), clock });
    const trust = await configuredTrustAnchor(config, provider);
    const compliance = new ComplianceService({ index, proofs: new ProofService({ index, provider, sealed: payloads, v2: { epochs: new EpochRepository(pool), flaggedRoots: new FlaggedRootRepository(pool) } }), audit, minConfirmations: config.chain.confirmations, trust });
    const seals = new AuditSealService({
      pool,
      seals: new AuditSealRepository(pool),
      audit,
      jobs: deps.anchoring,
      // Audit seals are checked on the configured deployments only, never the contract or anchorer a
      // row names: v2 seals through their epoch, v1 ones by batchOf (anchoring/chain/seal-root.ts).
      rootOnChain: (batchId) => sealRootOnChain({ provider, epochs: new EpochRepository(pool) }, batchId, trust),
      log: log.child({ component: 'audit-seal' }),
      minAgeSeconds: review.auditSealMinAgeSeconds,
    });
    const { app } = await buildReviewApp({ auth, cases: caseService, compliance, alerts, audit, seals, log, cookieSecure: review.cookieSecure, hsts: review.hsts, trustProxy: review.trustProxy, loginLimits: { perIpPerMinute: review.loginPerIpPerMinute, globalPerMinute: review.loginGlobalPerMinute } });
    publisher.flushInBackground();
    const sweep = setInterval(() => publisher.flushInBackground(), OUTBOX_SWEEP_MS);
    stops.unshift(() => clearInterval(sweep), () => app.close());
    if (review.auditSealSeconds > 0) {
      const sealLog = log.child({ component: 'audit-seal' });
      const sealTimer = setInterval(() => void seals.seal().catch((error: unknown) => sealLog.error({ err: error }, 'sealing the audit log failed; retried next time')), review.auditSealSeconds * 1000);
      stops.unshift(() => clearInterval(sealTimer));
    }
    // Operations: queue depth and SLA breaches sampled for Prometheus, and the process endpoint
    // (/metrics, /healthz, /readyz) when METRICS_PORT is set.
    const sampleQueues = async () => {
      const queues = await cases.queues();
      for (const q of queues) metrics.reviewQueueDepth.set({ queue: q.name }, q.open + q.assigned + q.snoozed + q.escalated);
      metrics.reviewSlaBreaches.set(queues.reduce((n, q) => n + q.breached, 0));
    };
    await sampleQueues();
    stops.unshift(every(REVIEW_SAMPLE_MS, sampleQueues, log, 'review queues'));
    if (config.metrics.port > 0) {
      const ops = await startMetricsServer({
        host: config.metrics.host,
        port: config.metrics.port,
        token: config.metrics.token,
        registry: metrics.registry,
        checks: () => ({ postgres: () => pool.query('SELECT 1'), chain: () => provider.getBlockNumber() }),
        log: log.child({ component: 'metrics' }),
      });
      stops.unshift(() => ops.close());
    }
    const url = await app.listen({ host: review.host, port });
    log.info({ url }, 'review app listening');
    return {
      url,
      publisher,
      seals,
      async stop() {
        for (const stop of stops) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops) await Promise.resolve(stop()).catch(() => undefined);
    throw error;
  }
}
