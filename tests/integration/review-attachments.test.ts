import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionIndexRepository, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { startTestReviewServer } from '../support/review.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName, payloadRepository } from '../support/env.ts';
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';

const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

/** Case attachments through the real API and PostgreSQL: roles, limits, bytes, audit. */
describe('review attachments API', () => {
  const config = isolatedConfig();
  let drop: () => Promise<void>;
  let pool: Pool;
  let server: RunningReviewServer;
  let caseId: string;
  const verdictsTopic = uniqueName('verdicts');
  const users: Record<string, CreatedUser> = {};

  async function call(who: string, method: string, path: string, body?: Buffer | string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${users[who]!.token}` };
    if (contentType) headers['content-type'] = contentType;
    return fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  }

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    const claim = generateClaims({ count: 1, seed: 9 }).claims[0]!;
    const decision: IndexedDecision = {
      decisionId: hex('attachment-decision'),
      claimId: claim.claimId,
      score: 0.7,
      components: { rf: 0.7, nn: 0.7 },
      outcome: 'flag',
      reasons: [],
      modelHash: hex('model'),
      decidedAt: '2026-11-24T00:00:00.000Z',
      input: { topic: config.kafka.topics.claims, partition: 0, offset: '0' },
      claimCommitment: hex('commitment'),
      salt: hex('salt'),
      log: { topic: config.kafka.topics.decisions, partition: 0, offset: '0' },
      leaf: hex('leaf'),
      batchId: hex('batch'),
      leafIndex: 0,
    };
    await (await payloadRepository(pool, config)).insertMany([{ decisionId: decision.decisionId, claimId: claim.claimId, memberId: claim.memberId, providerNpi: claim.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(claim)), claimType: claim.claimType, totalCharged: claim.totalCharged, salt: `0x${'5a'.repeat(32)}` }]);
    await new DecisionIndexRepository(pool).recordBatch({ batchId: decision.batchId, topic: decision.log.topic, partition: 0, firstOffset: '0', lastOffset: '0', leafCount: 1, root: hex('root') }, [decision], { hook: new CaseOpeningService() });
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1 });
    for (const [name, role] of [['ivy', 'investigator'], ['ian', 'investigator'], ['sue', 'supervisor'], ['cora', 'compliance']] as const) users[name] = await auth.createUser(name, role, null);
    server = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic, REVIEW_AUDIT_SEAL_SECONDS: '0' }));
    const taken = (await (await call('ivy', 'POST', '/api/cases/take-next', '{}', 'application/json')).json()) as { case: { caseId: string } };
    caseId = taken.case.caseId;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    const admin = createKafka(config, testLog, '-attachments-test').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [verdictsTopic] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
  });

  it('stores an upload by the assignee and serves the same bytes back, audited both ways', async () => {
    const up = await call('ivy', 'POST', `/api/cases/${caseId}/attachments?name=${encodeURIComponent('../letters/records 1.pdf')}`, PDF, 'application/pdf');
    expect(up.status).toBe(201);
    const saved = (await up.json()) as { attachmentId: string; fileName: string; sizeBytes: number; sha256: string; uploadedBy: string };
    expect(saved).toMatchObject({ fileName: 'records 1.pdf', sizeBytes: PDF.length, sha256: createHash('sha256').update(PDF).digest('hex'), uploadedBy: 'ivy' });

    const list = (await (await call('sue', 'GET', `/api/cases/${caseId}/attachments`)).json()) as { attachments: Array<{ attachmentId: string }> };
    expect(list.attachments.map((a) => a.attachmentId)).toEqual([saved.attachmentId]);

    const down = await call('ivy', 'GET', `/api/cases/${caseId}/attachments/${saved.attachmentId}`);
    expect(down.status).toBe(200);
    expect(down.headers.get('content-type')).toBe('application/pdf');
    expect(down.headers.get('content-disposition')).toBe(`attachment; filename="records 1.pdf"; filename*=UTF-8''records%201.pdf`);
    expect(Buffer.from(await down.arrayBuffer()).equals(PDF)).toBe(true);

    const { rows } = await pool.query<{ action: string; user_name: string; details: { attachmentId?: string } }>(`SELECT action, user_name, details FROM audit_log WHERE action LIKE 'case.attachment.%' ORDER BY audit_id`);
    expect(rows.map((r) => [r.action, r.user_name])).toEqual([
      ['case.attachment.upload', 'ivy'],
      ['case.attachment.list', 'sue'],
      ['case.attachment.download', 'ivy'],
    ]);
    expect(rows.filter((r) => r.action !== 'case.attachment.list').every((r) => r.details.attachmentId === saved.attachmentId)).toBe(true);
  });

  it('refuses other investigators and other roles, and unknown attachments', async () => {
    for (const [method, path, body] of [
      ['GET', `/api/cases/${caseId}/attachments`, undefined],
      ['GET', `/api/cases/${caseId}/attachments/1`, undefined],
      ['POST', `/api/cases/${caseId}/attachments?name=x.txt`, 'hello'],
    ] as const) {
      expect((await call('ian', method, path, body, body ? 'text/plain' : undefined)).status, `ian ${method} ${path}`).toBe(403);
      expect((await call('cora', method, path, body, body ? 'text/plain' : undefined)).status, `cora ${method} ${path}`).toBe(403);
    }
    const unknown = await call('sue', 'GET', `/api/cases/${caseId}/attachments/999999`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe('NOT_FOUND');
    expect((await call('sue', 'GET', '/api/cases/999999/attachments')).status).toBe(404);
  });

  it('answers types off the allowlist and lying bytes with 400, oversized files with 413, and stores nothing', async () => {
    const html = await call('ivy', 'POST', `/api/cases/${caseId}/attachments?name=x.html`, '<script>alert(1)</script>', 'text/html');
    expect(html.status).toBe(400);
    expect(((await html.json()) as { message: string }).message).toMatch(/text\/html is not allowed/);
    const fakePng = await call('ivy', 'POST', `/api/cases/${caseId}/attachments?name=x.png`, '<svg/>', 'image/png');
    expect(fakePng.status).toBe(400);
    const big = await call('ivy', 'POST', `/api/cases/${caseId}/attachments?name=big.txt`, Buffer.alloc(5 * 1024 * 1024 + 1, 0x61), 'text/plain');
    expect(big.status).toBe(413);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM case_attachments');
    expect(rows[0]!.n).toBe('1');
  });
});
