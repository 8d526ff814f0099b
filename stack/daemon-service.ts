import { rmSync } from 'node:fs';
import { StackError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ServicePaths } from './paths.ts';
import { describePortHolder, isLocalHost } from './port.ts';
import { ownedPid, spawnDaemon, stopPid, waitFor, withLogTail } from './process.ts';
import type { DownReport, ServiceName, ServiceReport, StackService } from './service.ts';

/**
 * The shared life cycle of a stack service that runs as one daemon process of ours (Kafka,
 * Redis, anvil): reuse whatever healthy service answers at the configured address, otherwise
 * start ours from a pidfile-tracked detached process, and stop only that one.
 */

/** What a protocol-level probe saw at the service's address. */
export type Probe =
  /** The service answered its health check. */
  | { readonly kind: 'healthy'; readonly detail?: string }
  /** Nothing listens. */
  | { readonly kind: 'closed' }
  /** Something listens but did not pass the health check (still booting, or another program). */
  | { readonly kind: 'foreign'; readonly detail: string };

/** The process to start: executable, arguments, extra environment. */
export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export interface DaemonServiceSpec {
  readonly name: ServiceName;
  /** Host and port the service is expected at (from the URL / broker list). */
  readonly host: string;
  readonly port: number;
  /** Display address, without credentials. */
  readonly address: string;
  readonly paths: ServicePaths;
  /** Log to show in reports (defaults to paths.logFile); both are tailed on a failed start. */
  readonly serviceLogFile?: string;
  /** Environment variable that sets the address, named in errors about a remote address. */
  readonly addressVariable: string;
  /** Deadline for the started daemon to pass `probe`, milliseconds. */
  readonly startTimeoutMs: number;
  /** Grace after SIGTERM before SIGKILL, milliseconds. */
  readonly stopTimeoutMs: number;
  /** Protocol health check. Must settle within a few seconds (use client timeouts). */
  probe(): Promise<Probe>;
  /** Checks binaries and writes config files; throws StackError saying what to install. */
  prepare(): Promise<LaunchSpec>;
  /** Optional work once healthy (any state); returns a detail line for the report. */
  afterHealthy?(report: ServiceReport): Promise<string | undefined>;
}

/** Hard ceiling on one probe, whatever the client's own timeouts do. */
const PROBE_CEILING_MS = 10_000;

export class DaemonService implements StackService {
  readonly name: ServiceName;
  readonly address: string;
  readonly #spec: DaemonServiceSpec;
  readonly #log: Logger;

  constructor(spec: DaemonServiceSpec, log: Logger) {
    this.#spec = spec;
    this.name = spec.name;
    this.address = spec.address;
    this.#log = log.child({ stackService: spec.name });
  }

  get #logFile(): string {
    return this.#spec.serviceLogFile ?? this.#spec.paths.logFile;
  }

  async status(): Promise<ServiceReport> {
    const pid = ownedPid(this.#spec.paths.pidFile, this.#spec.paths.dir);
    const probe = await this.#probe();
    if (probe.kind === 'healthy') return this.#report(pid === null ? 'external' : 'running', pid, probe.detail);
    if (pid !== null) {
      const why = probe.kind === 'closed' ? 'nothing listens yet' : probe.detail;
      return this.#report('unhealthy', pid, `pid ${pid} (ours) runs but does not answer at ${this.address} (${why})`);
    }
    if (probe.kind === 'closed') return this.#report('stopped', null);
    return this.#report('unhealthy', null, this.#foreignMessage(probe.detail));
  }

  async up(): Promise<ServiceReport> {
    const started = Date.now();
    const spec = this.#spec;
    const pid = ownedPid(spec.paths.pidFile, spec.paths.dir);
    const probe = await this.#probe();
    let report: ServiceReport;
    if (probe.kind === 'healthy') {
      report = this.#report(pid === null ? 'external' : 'running', pid, probe.detail);
    } else if (pid !== null) {
      // Ours, but not answering: a start still in progress (or wedged). Give it the normal deadline.
      this.#log.info({ pid }, 'waiting for the running process to answer');
      const ready = await waitFor(() => this.#healthyDetail(), { timeoutMs: spec.startTimeoutMs, intervalMs: 500 });
      if (!ready.ok) {
        throw new StackError(spec.name, withLogTail(`pid ${pid} (ours) runs but does not answer at ${this.address} (${ready.message}); run \`claimtrail stack down\` then \`stack up\``, [this.#logFile]));
      }
      report = this.#report('running', pid, ready.value);
    } else if (probe.kind === 'foreign') {
      throw new StackError(spec.name, this.#foreignMessage(probe.detail));
    } else if (!isLocalHost(spec.host)) {
      throw new StackError(spec.name, `nothing answers at ${this.address}; fix ${spec.addressVariable}, or unset it to run a local ${spec.name} on 127.0.0.1`);
    } else {
      report = await this.#start();
    }
    const extra = spec.afterHealthy === undefined ? undefined : await spec.afterHealthy(report);
    const detail = [report.detail, extra].filter((d) => d !== undefined && d !== '').join('; ');
    return { ...report, ...(detail === '' ? {} : { detail }), elapsedMs: Date.now() - started };
  }

  async down(): Promise<DownReport> {
    const spec = this.#spec;
    const pid = ownedPid(spec.paths.pidFile, spec.paths.dir);
    if (pid !== null) {
      const outcome = await stopPid(spec.name, pid, spec.stopTimeoutMs);
      rmSync(spec.paths.pidFile, { force: true });
      this.#log.info({ pid, outcome }, 'stopped');
      return { service: spec.name, action: 'stopped', address: this.address, pid };
    }
    const probe = await this.#probe();
    return { service: spec.name, action: probe.kind === 'healthy' ? 'left-external' : 'not-running', address: this.address, pid: null };
  }

  async #start(): Promise<ServiceReport> {
    const spec = this.#spec;
    const launch = await spec.prepare();
    const daemon = spawnDaemon(spec.name, { ...launch, cwd: spec.paths.dir, logFile: spec.paths.logFile, pidFile: spec.paths.pidFile });
    this.#log.info({ pid: daemon.pid, command: launch.command }, 'started, waiting until healthy');
    const ready = await waitFor(() => this.#healthyDetail(), {
      timeoutMs: spec.startTimeoutMs,
      intervalMs: 500,
      abortIf: () => {
        const exit = daemon.exited();
        return exit === null ? null : `exited during start (${exit.signal ?? `code ${exit.code}`})`;
      },
    });
    if (!ready.ok) {
      // Leave nothing half-started behind: the next `up` starts clean.
      await stopPid(spec.name, daemon.pid, spec.stopTimeoutMs);
      rmSync(spec.paths.pidFile, { force: true });
      const what = ready.reason === 'timeout' ? `did not answer at ${this.address} within ${Math.round(spec.startTimeoutMs / 1000)} s (${ready.message})` : ready.message;
      const logs = [...new Set([this.#logFile, spec.paths.logFile])];
      throw new StackError(spec.name, withLogTail(`${what}; see ${this.#logFile}, or use \`docker compose up\``, logs));
    }
    this.#log.info({ pid: daemon.pid }, 'healthy');
    return this.#report('started', daemon.pid, ready.value);
  }

  /** Resolves the probe's detail once healthy, undefined while not (for waitFor); throws the last reason. */
  async #healthyDetail(): Promise<string | undefined> {
    const probe = await this.#probe();
    if (probe.kind === 'healthy') return probe.detail ?? 'healthy';
    throw new Error(probe.kind === 'closed' ? 'port closed' : probe.detail);
  }

  #probe(): Promise<Probe> {
    let timer: NodeJS.Timeout | undefined;
    const ceiling = new Promise<Probe>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'foreign', detail: `no answer within ${PROBE_CEILING_MS / 1000} s` }), PROBE_CEILING_MS);
    });
    return Promise.race([this.#spec.probe(), ceiling]).finally(() => clearTimeout(timer));
  }

  #foreignMessage(detail: string): string {
    const holder = isLocalHost(this.#spec.host) ? describePortHolder(this.#spec.port) : null;
    return `${this.address} is in use by ${holder ?? 'another process'} that does not answer as ${this.name} (${detail}); stop it or point ${this.#spec.addressVariable} elsewhere`;
  }

  #report(state: ServiceReport['state'], pid: number | null, detail?: string): ServiceReport {
    return {
      service: this.name,
      state,
      address: this.address,
      pid,
      ...(detail === undefined ? {} : { detail }),
      ...(pid === null ? {} : { logFile: this.#logFile }),
    };
  }
}
