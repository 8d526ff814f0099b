import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../../core/logger.ts';
import { createChainService } from '../../stack/chain.ts';
import { createKafkaService, ensureKafkaTools } from '../../stack/kafka.ts';
import { resolveStateDir, servicePaths } from '../../stack/paths.ts';
import { isPortOpen } from '../../stack/port.ts';
import { findExecutable, isAlive, readPidFile, runTool, stopPid, waitFor } from '../../stack/process.ts';
import { createRedisService } from '../../stack/redis.ts';
import type { StackContext, StackService } from '../../stack/service.ts';
import type { StackConfig } from '../../stack/stack-config.ts';

/**
 * Private instances of the stack's four services for fault trials that stop and restart them
 * while the pipeline runs. The shared stack (Kafka 9092, Redis 6379, PostgreSQL 5432, anvil 8545)
 * serves other suites at the same time and is never touched: each private service runs on a free
 * port with its own data folder, and `stop()` / `start()` act only on its own process.
 */

export const PRIVATE_SERVICE_KINDS = ['kafka', 'redis', 'postgres', 'chain'] as const;
export type PrivateServiceKind = (typeof PRIVATE_SERVICE_KINDS)[number];

/**
 * How a service is taken down.
 * - `clean`: its own orderly shutdown (SIGTERM; `pg_ctl stop -m fast` for PostgreSQL).
 * - `kill9`: SIGKILL of the server process (for PostgreSQL the postmaster and its backends), no
 *   shutdown hook: what it recovers on restart is what was on disk (the OS page cache survives).
 */
export type StopMode = 'clean' | 'kill9';

export interface PrivateService {
  readonly kind: PrivateServiceKind;
  /** Environment variables that point claimtrail at this instance (KAFKA_BROKERS, REDIS_URL, DATABASE_URL or CHAIN_RPC_URL). */
  readonly env: Readonly<Record<string, string>>;
  /** Folder holding its data, config and logs. */
  readonly dir: string;
  /** Pid of the server process while it runs, else null. */
  pid(): number | null;
  /** Takes it down; resolves once the process is gone. */
  stop(mode: StopMode): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it answers its health check. */
  start(): Promise<void>;
  /** Stops it (clean) and deletes its folder. */
  dispose(): Promise<void>;
}

/** A TCP port nothing listens on right now (the kernel's pick), optionally with `port + 1` free too. */
export async function freePort(withNext = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (port > 65_000) continue;
    if (!withNext) return port;
    // A race with another process is possible but harmless: the start then fails loudly.
    if ((await listenOnce(port + 1).catch(() => null)) !== null) return port;
  }
  throw new Error('no free TCP port pair found');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : port));
    });
  });
}

/**
 * Starts a private `kind` under `parent` (a fresh sub-folder; PostgreSQL takes its own folder in
 * the OS temp dir, owned by the `postgres` user when we run as root). Throws when it cannot start;
 * {@link privateServiceUnavailable} says up front why one cannot run on this machine.
 */
export async function startPrivateService(kind: PrivateServiceKind, parent: string, log: Logger): Promise<PrivateService> {
  switch (kind) {
    case 'kafka':
      return startDaemonBacked(kind, parent, log);
    case 'redis':
      return startDaemonBacked(kind, parent, log);
    case 'chain':
      return startDaemonBacked(kind, parent, log);
    case 'postgres':
      return startPrivatePostgres(log);
  }
}

/** Why a private `kind` cannot run here (a missing binary, no `postgres` user as root), or null. */
export function privateServiceUnavailable(kind: PrivateServiceKind): string | null {
  if (kind === 'redis' && findExecutable('redis-server') === null) return 'redis-server is not installed (apt-get install redis-server)';
  if (kind === 'kafka' && findExecutable('java', process.env.JAVA_HOME ? [join(process.env.JAVA_HOME, 'bin')] : []) === null) return 'java is not installed (Kafka needs Java 17+)';
  if (kind === 'postgres') {
    if (findPgBin() === null) return 'initdb/pg_ctl not found (apt-get install postgresql)';
    if (process.getuid?.() === 0 && postgresUser() === null) return 'running as root and there is no `postgres` OS user to run initdb as (initdb refuses root)';
  }
  return null;
}

/** Kafka, Redis and anvil through the stack's own service code, with a private state folder and port. */
async function startDaemonBacked(kind: 'kafka' | 'redis' | 'chain', parent: string, log: Logger): Promise<PrivateService> {
  const stateDir = mkdtempSync(join(parent, `${kind}-`));
  const port = await freePort(kind === 'kafka');
  const address = `127.0.0.1:${port}`;
  const config: StackConfig = Object.freeze({
    stateDir,
    kafkaBrokers: Object.freeze([address]),
    redisUrl: `redis://${address}`,
    databaseUrl: 'postgres://unused@127.0.0.1:1/unused',
    chainRpcUrl: `http://${address}`,
  });
  const ctx: StackContext = { config, log };
  let service: StackService;
  let env: Record<string, string>;
  if (kind === 'kafka') {
    // The stack's jars (fetched once with Maven), not a second copy per trial.
    const { libs } = await ensureKafkaTools(resolveStateDir(process.env.STATE_DIR ?? '.state'), log);
    service = createKafkaService(ctx, { libsDir: libs });
    env = { KAFKA_BROKERS: address };
  } else if (kind === 'redis') {
    service = createRedisService(ctx);
    env = { REDIS_URL: config.redisUrl };
  } else {
    // The dev signer and the DecisionAnchor deployment record live in this state folder too:
    // give the pipeline children the same STATE_DIR (see `env`).
    service = createChainService(ctx);
    env = { CHAIN_RPC_URL: config.chainRpcUrl, STATE_DIR: stateDir };
  }
  const pidFile = servicePaths(stateDir, kind).pidFile;
  const up = async () => {
    const report = await service.up();
    if (report.state !== 'started') throw new Error(`private ${kind} at ${address}: expected to start it, found it ${report.state}`);
  };
  await up();
  return {
    kind,
    env,
    dir: stateDir,
    pid: () => {
      const pid = readPidFile(pidFile)?.pid;
      return pid !== undefined && isAlive(pid) ? pid : null;
    },
    async stop(mode) {
      if (mode === 'clean') {
        await service.down();
        return;
      }
      const pid = readPidFile(pidFile)?.pid;
      if (pid === undefined) throw new Error(`private ${kind}: no pidfile, nothing to kill`);
      process.kill(pid, 'SIGKILL');
      await waitGone(kind, [pid]);
      // A multi-threaded process (the JVM) shows as a zombie before its last thread has closed its sockets.
      const ports = kind === 'kafka' ? [port, port + 1] : [port];
      const closed = await waitFor(async () => ((await Promise.all(ports.map((p) => isPortOpen('127.0.0.1', p, 200)))).some(Boolean) ? undefined : true), { timeoutMs: 30_000, intervalMs: 50 });
      if (!closed.ok) throw new Error(`private ${kind}: ports ${ports.join(', ')} still open 30 s after SIGKILL`);
      rmSync(pidFile, { force: true });
    },
    start: up,
    async dispose() {
      await service.down().catch((error: unknown) => log.warn({ err: error, kind }, 'stopping a private service failed'));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function waitGone(what: string, pids: readonly number[]): Promise<void> {
  const gone = await waitFor(async () => (pids.some(isAlive) ? undefined : true), { timeoutMs: 15_000, intervalMs: 50 });
  if (!gone.ok) throw new Error(`private ${what}: pids ${pids.join(', ')} still alive 15 s after SIGKILL`);
}

function postgresUser(): { uid: number; gid: number } | null {
  const out = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const outG = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (out.status !== 0 || outG.status !== 0) return null;
  return { uid: Number(out.stdout.trim()), gid: Number(outG.stdout.trim()) };
}

/** initdb and pg_ctl of the newest /usr/lib/postgresql/<major>/bin, else PATH; null when absent. */
function findPgBin(): { initdb: string; pgCtl: string } | null {
  let majors: string[] = [];
  try {
    majors = readdirSync('/usr/lib/postgresql').filter((m) => /^\d+$/.test(m)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not a Debian-style layout: PATH below.
    majors = [];
  }
  for (const major of majors) {
    const dir = join('/usr/lib/postgresql', major, 'bin');
    const initdb = findExecutable('initdb', [dir]);
    const pgCtl = findExecutable('pg_ctl', [dir]);
    if (initdb !== null && pgCtl !== null) return { initdb, pgCtl };
  }
  const initdb = findExecutable('initdb');
  const pgCtl = findExecutable('pg_ctl');
  return initdb !== null && pgCtl !== null ? { initdb, pgCtl } : null;
}

/**
 * A private PostgreSQL cluster (initdb, trust auth, TCP on 127.0.0.1 only, no Unix socket) run
 * with pg_ctl. As root it runs as the `postgres` OS user (`runuser`), in a folder of the OS temp
 * dir owned by that user: initdb refuses to run as root. stack/postgres.ts is not reused because
 * it refuses root for the same reason and keeps its cluster under the stack's state folder.
 */
async function startPrivatePostgres(log: Logger): Promise<PrivateService> {
  const why = privateServiceUnavailable('postgres');
  if (why !== null) throw new Error(`private postgres: ${why}`);
  const bins = findPgBin()!;
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser()! : null;
  const dir = mkdtempSync(join(tmpdir(), 'claimtrail-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (owner !== null) chownSync(dir, owner.uid, owner.gid);
  const run = (command: string, args: string[], timeoutMs: number) =>
    owner === null ? runTool('postgres', command, args, { timeoutMs }) : runTool('postgres', 'runuser', ['-u', 'postgres', '--', command, ...args], { timeoutMs });
  const init = await run(bins.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], 120_000);
  if (init.code !== 0) throw new Error(`private postgres: initdb failed (exit ${init.code}): ${init.stderr.trim().split('\n').pop() ?? ''}`);
  const port = await freePort();
  const conf = `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = ''\nmax_connections = 200\n`;
  // Root may append to the postgres user's file; its owner stays the same.
  appendFileSync(join(dataDir, 'postgresql.conf'), conf);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const postmasterPid = (): number | null => {
    try {
      const pid = Number.parseInt(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
      return Number.isInteger(pid) && isAlive(pid) ? pid : null;
    } catch {
      // No pid file: not running.
      return null;
    }
  };
  const start = async () => {
    // After a kill -9 the orphaned backends may hold the shared memory for a moment: retry.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const out = await run(bins.pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start'], 70_000);
      if (out.code === 0) break;
      if (Date.now() > deadline) throw new Error(`private postgres: pg_ctl start failed (exit ${out.code}): ${out.stderr.trim().split('\n').pop() ?? ''}; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const ready = await waitFor(async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, { timeoutMs: 60_000, intervalMs: 250 });
    if (!ready.ok) throw new Error(`private postgres at ${url}: not accepting connections (${ready.message}); see ${logFile}`);
  };
  await start();
  log.info({ dir, port }, 'private postgres started');
  return {
    kind: 'postgres',
    env: { DATABASE_URL: url },
    dir,
    pid: postmasterPid,
    async stop(mode) {
      const pid = postmasterPid();
      if (pid === null) return;
      if (mode === 'clean') {
        const out = await run(bins.pgCtl, ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop'], 40_000);
        if (out.code !== 0) throw new Error(`private postgres: pg_ctl stop failed (exit ${out.code}): ${out.stderr.trim()}`);
        return;
      }
      // The postmaster and every backend at once, like the OOM killer taking the whole server.
      const pids = [pid, ...childrenOf(pid)];
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch (error) {
          // ESRCH: it exited on its own in between, which is what we wanted.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
      await waitGone('postgres', pids);
    },
    start,
    async dispose() {
      const pid = postmasterPid();
      if (pid !== null) {
        await run(bins.pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'], 40_000).catch(() => undefined);
        await stopPid('postgres', pid, 10_000).catch(() => undefined);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Direct children of `pid`, from /proc (the PostgreSQL backends of a postmaster). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // The process exited while we looked.
      continue;
    }
  }
  return out;
}
