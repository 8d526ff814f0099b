import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { loadReviewConfig } from '../../../review/config.ts';

describe('review config', () => {
  it('has loopback defaults with a non-secure cookie only on loopback', () => {
    expect(loadReviewConfig({})).toEqual({ host: '127.0.0.1', port: 8080, sessionHours: 12, cookieSecure: false, verdictsTopic: 'verdicts', auditSealSeconds: 60, auditSealMinAgeSeconds: 30 });
    expect(loadReviewConfig({ REVIEW_HOST: '0.0.0.0' }).cookieSecure).toBe(true);
    expect(loadReviewConfig({ REVIEW_HOST: '0.0.0.0', REVIEW_COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
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
