import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { StackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { servicePaths, type ServicePaths } from './paths.ts';
import { describePortHolder, isLocalHost, isPortOpen } from './port.ts';
import { findExecutable, isOurProcess, runTool, stopPid, waitFor, withLogTail } from './process.ts';
import type { DownReport, ServiceReport, ServiceState, StackContext, StackService } from './service.ts';

/**
 * PostgreSQL: whatever accepts DATABASE_URL is reused, and the database it names is created when
 * missing (through the `postgres` maintenance database of the same server). Otherwise, when
 * Postgres binaries are installed, a cluster is initialised in `<state>/postgres/data` (trust
 * auth, 127.0.0.1 only, the URL's port and user) and run with pg_ctl. Migrations are not ours:
 * they run after `stack up`.
 *
 * Differs from the other services (daemon-service.ts) because pg_ctl, not us, daemonizes the
 * server: our process is the postmaster recorded in `data/postmaster.pid`.
 */

const START_TIMEOUT_S = 60;
const STOP_TIMEOUT_S = 30;
/** pg answers from a probe within this, or the probe fails. */
const PROBE_TIMEOUT_MS = 2_000;

type PgProbe =
  | { readonly kind: 'ok'; readonly version: string }
  /** The server answers, the database named in the URL does not exist (SQLSTATE 3D000). */
  | { readonly kind: 'missing-db' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'error'; readonly detail: string };

export function createPostgresService(ctx: StackContext): StackService {
  return new PostgresService(ctx.config.databaseUrl, servicePaths(ctx.config.stateDir, 'postgres'), ctx.log);
}

class PostgresService implements StackService {
  readonly name = 'postgres' as const;
  readonly address: string;
  readonly #url: URL;
  readonly #host: string;
  readonly #port: number;
  readonly #database: string;
  readonly #user: string;
  readonly #paths: ServicePaths;
  readonly #dataDir: string;
  readonly #log: Logger;

  constructor(databaseUrl: string, paths: ServicePaths, log: Logger) {
    this.#url = new URL(databaseUrl);
    this.#host = this.#url.hostname;
    this.#port = this.#url.port === '' ? 5432 : Number(this.#url.port);
    this.#database = decodeURIComponent(this.#url.pathname.slice(1)) || 'postgres';
    this.#user = decodeURIComponent(this.#url.username) || 'postgres';
    this.#paths = paths;
    this.#dataDir = join(paths.dir, 'data');
    this.address = `${this.#host}:${this.#port}/${this.#database}`;
    this.#log = log.child({ stackService: 'postgres' });
  }

  async status(): Promise<ServiceReport> {
    const pid = this.#ownPid();
    const probe = await this.#probe(this.#url);
    switch (probe.kind) {
      case 'ok':
        return this.#report(pid === null ? 'external' : 'running', pid, probe.version);
      case 'missing-db':
        return this.#report('unhealthy', pid, `the server answers but database ${this.#database} does not exist (\`stack up\` creates it)`);
      case 'closed':
        return pid === null ? this.#report('stopped', null) : this.#report('unhealthy', pid, `pid ${pid} runs but nothing answers at ${this.#host}:${this.#port}`);
      case 'error':
        return this.#report('unhealthy', pid, probe.detail);
    }
  }

  async up(): Promise<ServiceReport> {
    const started = Date.now();
    let pid = this.#ownPid();
    let state: ServiceState = pid === null ? 'external' : 'running';
    let probe = await this.#probe(this.#url);
    if (probe.kind === 'closed') {
      if (pid !== null) {
        throw new StackError('postgres', withLogTail(`pid ${pid} (ours) runs but nothing answers at ${this.#host}:${this.#port}; run \`claimtrail stack down\` then \`stack up\``, [this.#paths.logFile]));
      }
      if (!isLocalHost(this.#host)) {
        throw new StackError('postgres', `nothing answers at ${this.#host}:${this.#port}; fix DATABASE_URL, or unset it to use a local PostgreSQL`);
      }
      pid = await this.#startLocal();
      state = 'started';
      const ready = await waitFor(async () => {
        const p = await this.#probe(this.#url);
        return p.kind === 'ok' || p.kind === 'missing-db' ? p : undefined;
      }, { timeoutMs: START_TIMEOUT_S * 1000, intervalMs: 250 });
      if (!ready.ok) throw new StackError('postgres', withLogTail(`started (pid ${pid}) but does not accept connections at ${this.#host}:${this.#port}; see ${this.#paths.logFile}`, [this.#paths.logFile]));
      probe = ready.value;
    }
    if (probe.kind === 'error') {
      const holder = isLocalHost(this.#host) ? describePortHolder(this.#port) : null;
      throw new StackError('postgres', `${this.#host}:${this.#port}${holder === null ? '' : ` (${holder})`} refused DATABASE_URL: ${probe.detail}; fix DATABASE_URL or stop what holds the port`);
    }
    let detail: string | undefined;
    if (probe.kind === 'missing-db') {
      await this.#createDatabase();
      detail = `created database ${this.#database}`;
      probe = await this.#probe(this.#url);
      if (probe.kind !== 'ok') throw new StackError('postgres', `created database ${this.#database} but still cannot use it (${probe.kind === 'error' ? probe.detail : probe.kind})`);
    }
    const version = probe.kind === 'ok' ? probe.version : undefined;
    const report = this.#report(state, pid, [version, detail].filter(Boolean).join('; ') || undefined);
    return { ...report, elapsedMs: Date.now() - started };
  }

  async down(): Promise<DownReport> {
    const pid = this.#ownPid();
    if (pid === null) {
      const probe = await this.#probe(this.#url);
      const action = probe.kind === 'ok' || probe.kind === 'missing-db' ? 'left-external' : 'not-running';
      return { service: 'postgres', action, address: this.address, pid: null };
    }
    const bins = findPgBin(this.#dataDir);
    if (bins !== null) {
      const out = await runTool('postgres', bins.pgCtl, ['-D', this.#dataDir, '-m', 'fast', '-w', '-t', String(STOP_TIMEOUT_S), 'stop'], { timeoutMs: (STOP_TIMEOUT_S + 10) * 1000 });
      if (out.code !== 0) this.#log.warn({ pid, stderr: out.stderr.trim() }, 'pg_ctl stop failed; signalling the postmaster');
    }
    // Verifies the postmaster is gone. SIGINT is Postgres' "fast" shutdown (SIGTERM would be
    // "smart" and wait for every client to leave); SIGKILL stays the last resort.
    await stopPid('postgres', pid, STOP_TIMEOUT_S * 1000, 'SIGINT');
    return { service: 'postgres', action: 'stopped', address: this.address, pid };
  }

  /** The postmaster of our cluster when it runs (first line of data/postmaster.pid). */
  #ownPid(): number | null {
    let text: string;
    try {
      text = readFileSync(join(this.#dataDir, 'postmaster.pid'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 && isOurProcess(pid, this.#dataDir) ? pid : null;
  }

  async #startLocal(): Promise<number> {
    const bins = findPgBin(this.#dataDir);
    if (bins === null) {
      throw new StackError('postgres', `nothing answers at ${this.#host}:${this.#port} and PostgreSQL is not installed (install postgresql) or use \`docker compose up\``);
    }
    if (process.getuid?.() === 0) {
      throw new StackError('postgres', `nothing answers at ${this.#host}:${this.#port} and initdb refuses to run as root: start PostgreSQL yourself (e.g. \`service postgresql start\`) and set DATABASE_URL, or use \`docker compose up\``);
    }
    mkdirSync(this.#paths.dir, { recursive: true });
    if (!existsSync(join(this.#dataDir, 'PG_VERSION'))) {
      this.#log.info({ dataDir: this.#dataDir }, 'initialising a local cluster');
      const out = await runTool('postgres', bins.initdb, ['-D', this.#dataDir, '-U', this.#user, '--auth=trust', '--encoding=UTF8', '--locale=C'], { timeoutMs: 120_000 });
      writeFileSync(join(this.#paths.dir, 'initdb.log'), `${out.stdout}${out.stderr}`);
      if (out.code !== 0) {
        throw new StackError('postgres', `initdb failed (exit ${out.code}): ${out.stderr.trim().split('\n').pop() ?? ''}; see ${join(this.#paths.dir, 'initdb.log')}`);
      }
      appendFileSync(join(this.#dataDir, 'postgresql.conf'), "\n# claimtrail `stack up` settings (rewritten on every start)\ninclude_if_exists = 'claimtrail.conf'\n");
    }
    // No Unix socket: its default folder may not be writable, and everything connects over TCP.
    writeFileSync(
      join(this.#dataDir, 'claimtrail.conf'),
      `# Generated by claimtrail \`stack up\` (stack/postgres.ts); edits are overwritten.\nlisten_addresses = '127.0.0.1'\nport = ${this.#port}\nunix_socket_directories = ''\n`,
    );
    const out = await runTool('postgres', bins.pgCtl, ['-D', this.#dataDir, '-l', this.#paths.logFile, '-w', '-t', String(START_TIMEOUT_S), 'start'], { timeoutMs: (START_TIMEOUT_S + 10) * 1000 });
    const pid = this.#ownPid();
    if (out.code !== 0 || pid === null) {
      throw new StackError('postgres', withLogTail(`pg_ctl start failed (exit ${out.code}); see ${this.#paths.logFile}, or use \`docker compose up\``, [this.#paths.logFile]));
    }
    this.#log.info({ pid }, 'started');
    return pid;
  }

  /** CREATE DATABASE through the `postgres` maintenance database of the same server. */
  async #createDatabase(): Promise<void> {
    const maintenance = new URL(this.#url);
    maintenance.pathname = '/postgres';
    const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: 30_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(`CREATE DATABASE "${this.#database.replaceAll('"', '""')}"`);
      this.#log.info({ database: this.#database }, 'created database');
    } catch (error) {
      // 42P04: someone created it between our probe and this statement, which is what we wanted.
      if ((error as { code?: string }).code !== '42P04') {
        throw new StackError('postgres', `cannot create database ${this.#database}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    } finally {
      await client.end();
    }
  }

  async #probe(url: URL): Promise<PgProbe> {
    if (!(await isPortOpen(this.#host, this.#port))) return { kind: 'closed' };
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
    // Failures surface through connect()/query(); an idle error after that has nothing to tell.
    client.on('error', () => undefined);
    let connected = false;
    try {
      await client.connect();
      connected = true;
      const result = await client.query<{ v: string }>("select current_setting('server_version') as v");
      return { kind: 'ok', version: `PostgreSQL ${result.rows[0]?.v ?? '?'}` };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '3D000') return { kind: 'missing-db' };
      if (code === 'ECONNREFUSED') return { kind: 'closed' };
      return { kind: 'error', detail: error instanceof Error ? error.message : String(error) };
    } finally {
      if (connected) await client.end();
    }
  }

  #report(state: ServiceState, pid: number | null, detail?: string): ServiceReport {
    return {
      service: 'postgres',
      state,
      address: this.address,
      pid,
      ...(detail === undefined ? {} : { detail }),
      ...(pid === null ? {} : { logFile: this.#paths.logFile }),
    };
  }
}

/**
 * initdb and pg_ctl: from /usr/lib/postgresql/<major>/bin (Debian/Ubuntu; the major that wrote
 * an existing data folder first, else the newest), then PATH. Null when not installed.
 */
function findPgBin(dataDir: string): { initdb: string; pgCtl: string } | null {
  const root = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = readdirSync(root).filter((m) => /^\d+$/.test(m)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not a Debian-style install: PATH below.
    majors = [];
  }
  let wanted: string | undefined;
  try {
    wanted = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
  } catch {
    wanted = undefined;
  }
  const ordered = wanted !== undefined && majors.includes(wanted) ? [wanted, ...majors.filter((m) => m !== wanted)] : majors;
  for (const major of ordered) {
    const dir = join(root, major, 'bin');
    const initdb = findExecutable('initdb', [dir]);
    const pgCtl = findExecutable('pg_ctl', [dir]);
    if (initdb?.startsWith(dir) && pgCtl?.startsWith(dir)) return { initdb, pgCtl };
  }
  const initdb = findExecutable('initdb');
  const pgCtl = findExecutable('pg_ctl');
  return initdb !== null && pgCtl !== null ? { initdb, pgCtl } : null;
}
