import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { loadReviewConfig } from '../../../review/config.ts';

describe('review config', () => {
  it('has loopback defaults with a non-secure cookie only on loopback', () => {
    expect(loadReviewConfig({})).toEqual({
      host: '127.0.0.1', port: 8080, sessionHours: 12, cookieSecure: false, hsts: false, trustProxy: false, loginPerIpPerMinute: 20, loginGlobalPerMinute: 300, loginConcurrency: 4,
      indexKeyHex: undefined, tokenDefaultDays: 30, tokenMaxDays: 90, verdictsTopic: 'verdicts', auditSealSeconds: 60, auditSealMinAgeSeconds: 30,
    });
    expect(loadReviewConfig({ REVIEW_HOST: '0.0.0.0' }).hsts).toBe(true);
    expect(loadReviewConfig({ REVIEW_HOST: '0.0.0.0' }).cookieSecure).toBe(true);
    expect(loadReviewConfig({ REVIEW_HOST: '0.0.0.0', REVIEW_COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
  });

  it('reads REVIEW_TRUST_PROXY as false, true, a hop count or a list of addresses / CIDR ranges', () => {
    expect(loadReviewConfig({ REVIEW_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadReviewConfig({ REVIEW_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadReviewConfig({ REVIEW_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(() => loadReviewConfig({ REVIEW_TRUST_PROXY: 'proxy.example' })).toThrow(/REVIEW_TRUST_PROXY/);
  });

  it('reports every bad variable together', () => {
    let error: unknown;
    try {
      loadReviewConfig({ REVIEW_PORT: '70000', REVIEW_SESSION_HOURS: '0', VERDICTS_TOPIC: 'bad topic', REVIEW_COOKIE_SECURE: 'yes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    expect((error as ConfigError).issues.map((i) => i.split(':')[0]).sort()).toEqual(['REVIEW_COOKIE_SECURE', 'REVIEW_PORT', 'REVIEW_SESSION_HOURS', 'VERDICTS_TOPIC']);
  });
});
