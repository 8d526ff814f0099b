import { type Command, InvalidArgumentError } from 'commander';
import { ALL_ROLES, KNOWN_ROLES, type PipelineRole, startPipeline } from '../../pipeline/runtime.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { commandContext, untilSignal } from '../context.ts';
import { devIndexKeySource, devKeySources } from '../dev-sources.ts';

/** How long SIGTERM / SIGINT waits for the stages to drain before exiting anyway. */
const DRAIN_MS = 30_000;

function roles(value: string): PipelineRole[] {
  const parts = value.split(',').map((p) => p.trim());
  const bad = parts.filter((p) => !KNOWN_ROLES.includes(p as PipelineRole));
  if (bad.length > 0 || parts.length === 0) throw new InvalidArgumentError(`unknown role(s) ${bad.join(', ')}; expected some of ${KNOWN_ROLES.join(',')}.`);
  return parts as PipelineRole[];
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run pipeline stages until SIGINT/SIGTERM: scoring (claims -> decisions), batching (decisions -> Merkle batches), anchoring (batches -> chain), ingest (whole insurer files on INTERCHANGES_TOPIC -> claims, DLQ, acknowledgements), monitor (access events of the review app -> explained access records, chain watch; only when named).')
    .option('--roles <list>', `comma-separated stages to run in this process (${KNOWN_ROLES.join(',')}; default ${ALL_ROLES.join(',')})`, roles, [...ALL_ROLES])
    .addHelpText('after', '\nScale scoring by starting more processes with --roles scoring (one per claims partition at most).')
    .action(async (opts: { roles: PipelineRole[] }) => {
      const { config, log } = commandContext();
      // Configured keys first; the stack's dev keys only on a dev chain / a database on this machine.
      // The monitor role keys access pseudonyms with the review index key (REVIEW_INDEX_KEY).
      const indexKey = opts.roles.includes('monitor') ? { indexKey: devIndexKeySource(config, loadReviewConfig()) } : {};
      const pipeline = await startPipeline(config, log, { ...devKeySources(config), ...indexKey }, opts.roles);
      log.info({ roles: opts.roles }, 'pipeline running');
      const signal = await untilSignal();
      log.info({ signal, drainMs: DRAIN_MS }, 'stopping: draining in-flight work');
      // Stages finish (or hand back) their batch in flight; a stop that hangs must not keep the
      // process alive forever: after DRAIN_MS it exits 1 (uncommitted work is re-read on restart).
      const bound = setTimeout(() => {
        log.error({ drainMs: DRAIN_MS }, 'stages did not stop in time; exiting');
        process.exit(1);
      }, DRAIN_MS);
      bound.unref();
      await pipeline.stop();
      clearTimeout(bound);
      log.info({ signal }, 'stopped');
      process.exitCode = 0;
    });
}
