import type { Logger } from '../core/logger.ts';
import type { StackConfig } from './stack-config.ts';

/** The four services of the local stack, in start order (stopped in reverse). */
export const SERVICE_NAMES = ['kafka', 'redis', 'postgres', 'chain'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * What a service looks like from here.
 * - `started`: this call started it and it is healthy.
 * - `running`: started earlier by the stack (our pidfile, live process) and healthy.
 * - `external`: healthy, but not ours (docker compose, a system service): never stopped by us.
 * - `stopped`: nothing answers and none of ours runs.
 * - `unhealthy`: ours runs but does not answer yet, or the port is held by something that is not
 *   this service (`detail` says which).
 */
export type ServiceState = 'started' | 'running' | 'external' | 'stopped' | 'unhealthy';

/** A service counts as up when it answers its health check, whoever started it. */
export function isUp(state: ServiceState): boolean {
  return state === 'started' || state === 'running' || state === 'external';
}

export interface ServiceReport {
  readonly service: ServiceName;
  readonly state: ServiceState;
  /** Where clients reach it (`host:port`, or a URL without credentials). */
  readonly address: string;
  /** Pid of the process the stack started, or null (external, stopped). */
  readonly pid: number | null;
  /** One human line with more to say (created database, port holder, dev signer...). */
  readonly detail?: string;
  /** The service's own log file when the stack runs it. */
  readonly logFile?: string;
  /** Wall time spent on this service by `up`, in milliseconds. */
  readonly elapsedMs?: number;
}

/**
 * What `down` did for one service.
 * - `stopped`: ours was running and is gone now (pid verified dead).
 * - `left-external`: something answers that the stack did not start; left alone.
 * - `not-running`: nothing of ours to stop.
 */
export type DownAction = 'stopped' | 'left-external' | 'not-running';

export interface DownReport {
  readonly service: ServiceName;
  readonly action: DownAction;
  readonly address: string;
  /** Pid that was stopped, when `action` is `stopped`. */
  readonly pid: number | null;
}

/**
 * What every service adapter gets: the frozen stack config and a `component: 'stack'` child
 * logger. Adapters add `stackService` (not `service`: the root logger's base already uses that key).
 */
export interface StackContext {
  readonly config: StackConfig;
  readonly log: Logger;
}

/** One service of the local stack. Implementations never hang: every wait has a deadline. */
export interface StackService {
  readonly name: ServiceName;
  /** Where clients reach it, without credentials. */
  readonly address: string;
  /** Probes without starting or stopping anything. Never throws for an unreachable service. */
  status(): Promise<ServiceReport>;
  /** Reuses what answers, else starts ours and waits until healthy. Throws StackError with a one-line fix. */
  up(): Promise<ServiceReport>;
  /** Stops what the stack started (never an external service) and verifies the process is gone. */
  down(): Promise<DownReport>;
}
