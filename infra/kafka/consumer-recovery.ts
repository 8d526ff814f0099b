import type { Consumer, ConsumerCrashEvent } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';

/** Pause before running a crashed consumer again, milliseconds (doubles per failed attempt up to the cap). */
const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Keeps a consumer running after crashes kafkajs does not restart by itself.
 *
 * kafkajs restarts a crashed consumer only when the error is retriable. After a broker restart
 * the group coordinator can stay unavailable ("coordinator is loading", "not the correct
 * coordinator") longer than the client's retries; kafkajs then crashes with
 * `KafkaJSGroupCoordinatorNotFound` / `KafkaJSNonRetriableError`, which it never restarts
 * (tulios/kafkajs#1630, #1445): the consumer is disconnected while the process lives on, and the
 * stage stops without a word. Found by the fault suite's Kafka restart trials (docs/faults.md).
 *
 * On such a crash (`restart: false`) this runs `rerun` (connect + run again; the subscription is
 * kept by the consumer) after a delay, doubling the delay while attempts fail. Nothing is lost
 * or doubled by this: the stages commit offsets only with their output, so the group resumes
 * from the last committed offset, as it does after a kafkajs restart or a process restart.
 *
 * @param isStopping true once the owner is shutting down: a crash then is left alone.
 * @returns a function that cancels a pending restart (call it from the owner's stop()).
 */
export function restartOnUnrecoveredCrash(consumer: Consumer, rerun: () => Promise<void>, log: Logger, isStopping: () => boolean): () => void {
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_RESTART_DELAY_MS;
  const schedule = () => {
    if (isStopping()) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (isStopping()) return;
      rerun().then(
        () => {
          delay = FIRST_RESTART_DELAY_MS;
          log.warn('consumer running again after a crash');
        },
        (error: unknown) => {
          delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
          log.error({ err: error, retryInMs: delay }, 'running the crashed consumer again failed; retrying');
          schedule();
        },
      );
    }, delay);
  };
  consumer.on(consumer.events.CRASH, (event: ConsumerCrashEvent) => {
    // kafkajs restarts retriable crashes itself.
    if (event.payload.restart || isStopping()) return;
    log.error({ err: event.payload.error, retryInMs: delay }, 'consumer crashed on an error kafkajs does not restart on; running it again');
    schedule();
  });
  return () => clearTimeout(timer);
}
