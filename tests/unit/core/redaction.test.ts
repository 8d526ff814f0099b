import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { connectProvider } from '../../../anchoring/chain/provider.ts';
import { redactSecretsInText, redactUrl } from '../../../core/redact.ts';
import { createLogger } from '../../../core/logger.ts';

const RPC_KEY = '9f3b2c1d4e5f60718293a4b5c6d7e8f9';
const RPC_URL = `https://mainnet.infura.example/v3/${RPC_KEY}`;
const DB_PASSWORD = 'db-pass-7d1e9a';
const REDIS_PASSWORD = 'redis-pass-3c8b2f';

/** A logger writing into memory, and the lines it wrote. */
function capture(): { log: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger('info', sink), text: () => chunks.join('') };
}

describe('URL credentials and path tokens are redacted', () => {
  it('redactUrl hides an RPC path key, query values and passwords, and keeps scheme, host and port', () => {
    expect(redactUrl(RPC_URL)).toBe('https://mainnet.infura.example/v3/[redacted]');
    expect(redactUrl('https://eth.example/rpc?apikey=abcdef1234567890')).toBe('https://eth.example/rpc?apikey=[redacted]');
    expect(redactUrl(`postgres://app:${DB_PASSWORD}@db.internal:5432/claimtrail`)).toBe('postgres://app:[redacted]@db.internal:5432/claimtrail');
    expect(redactUrl(`redis://:${REDIS_PASSWORD}@127.0.0.1:6379`)).toBe('redis://:[redacted]@127.0.0.1:6379');
    expect(redactUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('redactSecretsInText rewrites every URL inside a sentence', () => {
    const text = `no EVM JSON-RPC answers at ${RPC_URL} (db postgres://app:${DB_PASSWORD}@h/claimtrail, redis redis://:${REDIS_PASSWORD}@h:6379)`;
    const out = redactSecretsInText(text);
    for (const secret of [RPC_KEY, DB_PASSWORD, REDIS_PASSWORD]) expect(out).not.toContain(secret);
    expect(out).toContain('no EVM JSON-RPC answers at https://mainnet.infura.example/v3/[redacted]');
  });

  it('connectProvider: the error text of an unreachable RPC URL carries no path key', async () => {
    const error = await connectProvider(`http://127.0.0.1:1/v3/${RPC_KEY}`).then(() => null, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain('http://127.0.0.1:1/v3/[redacted]');
    expect(error!.message).not.toContain(RPC_KEY);
  });

  it('log lines: messages, string fields and errors that print an RPC, database or Redis URL are redacted', () => {
    const { log, text } = capture();
    log.info({ rpcUrl: RPC_URL, redisUrl: `redis://:${REDIS_PASSWORD}@h:6379` }, `connecting to ${RPC_URL}`);
    log.error({ err: new Error(`cannot reach postgres://app:${DB_PASSWORD}@db/claimtrail or ${RPC_URL}`) }, 'start failed');
    log.warn('chain at %s is slow', RPC_URL);
    const out = text();
    for (const secret of [RPC_KEY, DB_PASSWORD, REDIS_PASSWORD]) expect(out).not.toContain(secret);
    expect(out).toContain('v3/[redacted]');
  });
});

describe('pino redact paths', () => {
  it('censors masterKeyHex, salt, authorization, cookie, signerKey, password, token and privateKey, top level and nested', () => {
    const { log, text } = capture();
    const names = ['masterKeyHex', 'salt', 'authorization', 'cookie', 'signerKey', 'password', 'token', 'privateKey'];
    const value = (name: string, where: string) => `secret-${name}-${where}-0123456789`;
    const flat = Object.fromEntries(names.map((n) => [n, value(n, 'top')]));
    const nested = Object.fromEntries(names.map((n) => [n, value(n, 'nested')]));
    const deep = Object.fromEntries(names.map((n) => [n, value(n, 'deep')]));
    log.info({ ...flat, config: nested, req: { headers: { authorization: value('authorization', 'headers'), cookie: value('cookie', 'headers') } }, outer: { inner: deep } }, 'object with every secret key');
    const out = text();
    expect(out).toContain('[redacted]');
    for (const n of names) {
      for (const where of ['top', 'nested', 'deep']) expect(out, `${n} (${where})`).not.toContain(value(n, where));
    }
    expect(out).not.toContain(value('authorization', 'headers'));
    expect(out).not.toContain(value('cookie', 'headers'));
  });
});
