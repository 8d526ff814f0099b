import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { SERVICE_NAMES, isUp, loadStackConfig, stackStatus, stackUp, type StackConfig } from '../../stack/stack.ts';

// The global setup (tests/setup/stack.global.ts) ran `stackUp` before this file.
const log = createLogger('silent');

describe('local stack (live)', () => {
  it('reports all four services up', async () => {
    const status = await stackStatus({ log });
    expect(status.services.map((s) => s.service)).toEqual([...SERVICE_NAMES]);
    for (const s of status.services) {
      expect(isUp(s.state), `${s.service} is ${s.state}: ${s.detail ?? ''}`).toBe(true);
    }
    expect(status.allUp).toBe(true);
  });

  it('gives the pid of each service the stack runs, a live process, and none for external ones', async () => {
    const status = await stackStatus({ log });
    for (const s of status.services) {
      if (s.state === 'running') {
        expect(s.pid, s.service).toBeGreaterThan(0);
        expect(() => process.kill(s.pid as number, 0)).not.toThrow();
      } else {
        expect(s.state, s.service).toBe('external');
        expect(s.pid, s.service).toBeNull();
      }
    }
  });

  it('up a second time starts nothing and returns quickly', async () => {
    const result = await stackUp({ log });
    expect(result.started).toEqual([]);
    for (const s of result.services) expect(['running', 'external'], s.service).toContain(s.state);
    expect(result.elapsedMs).toBeLessThan(5_000);
  });
});

describe('local stack (ports held by something else)', () => {
  // An HTTP server that is neither Redis nor an EVM node, on a free port, and a throwaway state folder.
  let server: Server;
  let port: number;
  let config: StackConfig;

  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    config = {
      ...loadStackConfig(),
      stateDir: mkdtempSync(join(tmpdir(), 'claimtrail-stack-test-')),
      chainRpcUrl: `http://127.0.0.1:${port}`,
      redisUrl: `redis://127.0.0.1:${port}`,
    };
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(config.stateDir, { recursive: true, force: true });
  });

  it('status reports the chain port as unhealthy, naming what is wrong', async () => {
    const status = await stackStatus({ config, log, services: ['chain', 'redis'] });
    expect(status.allUp).toBe(false);
    const chain = status.services.find((s) => s.service === 'chain');
    expect(chain?.state).toBe('unhealthy');
    expect(chain?.pid).toBeNull();
    expect(chain?.detail).toMatch(/not an EVM JSON-RPC node/);
    expect(status.services.find((s) => s.service === 'redis')?.state).toBe('unhealthy');
  });

  it('up refuses to reuse or start over a foreign chain port, with a StackError', async () => {
    const error = await stackUp({ config, log, services: ['chain'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).code).toBe('STACK_UNAVAILABLE');
    expect((error as StackError).service).toBe('chain');
    expect((error as StackError).message).toContain(`127.0.0.1:${port}`);
    expect((error as StackError).message).toContain('CHAIN_RPC_URL');
  });

  it('up does not try to start a service whose address is not local', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never routed, so nothing answers.
    const remote = { ...config, redisUrl: 'redis://192.0.2.1:6379' };
    const error = await stackUp({ config: remote, log, services: ['redis'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toMatch(/nothing answers at 192\.0\.2\.1:6379; fix REDIS_URL/);
  });
});
