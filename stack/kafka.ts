import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { StackError } from '../core/errors.ts';
import { DaemonService, type LaunchSpec, type Probe } from './daemon-service.ts';
import { renderLog4j2Xml, renderServerProperties, type KafkaListenerSecurity } from './kafka-config.ts';
import { REPO_ROOT, resolveStateDir, servicePaths } from './paths.ts';
import { describePortHolder, isPortOpen } from './port.ts';
import { findExecutable, runTool } from './process.ts';
import type { StackContext, StackService } from './service.ts';

/**
 * The local Apache Kafka: Kafka's own jars from Maven Central (stack/kafka/pom.xml, fetched once
 * into `<state>/kafka/libs`), storage formatted once for a persisted cluster id, and `kafka.Kafka`
 * run as a single KRaft node on the first KAFKA_BROKERS address (controller on port + 1).
 * A Kafka already answering there (docker compose, a previous `stack up`) is reused.
 */

/**
 * Pinned, the newest 4.x on Maven Central (its classes target Java 17). kafkajs 2.2.4 was measured
 * against it for every call claimtrail makes (README, "Why Kafka 4.4.0"). Keep in step with pom.xml.
 */
export const KAFKA_VERSION = '4.4.0';

const POM = join(REPO_ROOT, 'stack', 'kafka', 'pom.xml');
/** A jar that exists only when copy-dependencies of this version completed. */
const MARKER_JAR = `kafka_2.13-${KAFKA_VERSION}.jar`;

/** Broker start deadline: JVM boot, metadata log replay, first describeCluster. */
const START_TIMEOUT_MS = 90_000;
/** Controlled shutdown of one node takes a few seconds; past this it is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** First Maven fetch of ~100 jars; later runs hit ~/.m2. */
const MAVEN_TIMEOUT_MS = 10 * 60_000;

const JAVA_MISSING = 'Java 17+ is required for the local Kafka (install openjdk-17-jre-headless) or use `docker compose up`';
const MAVEN_MISSING = `Maven is required once to fetch Kafka ${KAFKA_VERSION} from Maven Central (install maven) or use \`docker compose up\``;

interface KafkaFiles {
  readonly libs: string;
  readonly data: string;
  readonly logs: string;
  readonly serverProperties: string;
  /** log4j2 configuration (Kafka 4 logs through log4j2). */
  readonly log4j: string;
  readonly clusterId: string;
  readonly mavenLog: string;
}

function kafkaFiles(stateDir: string, libsDir?: string): KafkaFiles {
  const paths = servicePaths(stateDir, 'kafka');
  return {
    libs: libsDir ?? join(paths.dir, 'libs'),
    data: join(paths.dir, 'data'),
    logs: join(paths.dir, 'logs'),
    serverProperties: join(paths.dir, 'server.properties'),
    log4j: join(paths.dir, 'log4j2.xml'),
    clusterId: join(paths.dir, 'cluster-id'),
    mavenLog: join(paths.dir, 'maven.log'),
  };
}

/**
 * Kafka's own jars (the tools too, e.g. ConsumerPerformance) and a log4j config under the state
 * folder, fetched with Maven when missing, whether or not this stack runs the broker (a reused
 * broker from docker compose has no local jars). Returns the libs folder and the log4j file.
 */
export async function ensureKafkaTools(stateDir: string, log: StackContext['log']): Promise<{ libs: string; log4j: string }> {
  // Absolute: Maven resolves a relative -DoutputDirectory against the pom's folder, not ours.
  const files = kafkaFiles(resolveStateDir(stateDir));
  mkdirSync(files.logs, { recursive: true });
  await ensureLibs(files, log);
  if (!existsSync(files.log4j)) writeFileSync(files.log4j, renderLog4j2Xml());
  return { libs: files.libs, log4j: files.log4j };
}

/** Options of {@link createKafkaService}; the stack itself passes none. */
export interface KafkaServiceOptions {
  /**
   * Folder holding Kafka's jars, already complete (see {@link ensureKafkaTools}). Default
   * `<state>/kafka/libs`, fetched with Maven when missing. Lets a second, private broker (fault
   * trials) run from the stack's jars instead of copying them into its own state folder.
   */
  readonly libsDir?: string;
  /**
   * A SASL_SSL client listener instead of PLAINTEXT (see {@link KafkaSecureBroker}); the stack
   * itself runs PLAINTEXT on the loopback address.
   */
  readonly secure?: KafkaSecureBroker;
}

/** What a SASL_SSL broker needs beyond the PLAINTEXT one. */
export interface KafkaSecureBroker {
  /** TLS files and inter-broker / PLAIN users of the listener. */
  readonly listener: KafkaListenerSecurity;
  /** SCRAM credentials written into the metadata log when the storage is formatted (`format --add-scram`). */
  readonly scramUsers: ReadonlyArray<{ readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly username: string; readonly password: string }>;
  /** kafkajs `ssl` / `sasl` settings the health probe connects with. */
  readonly probeClient: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

export function createKafkaService(ctx: StackContext, options: KafkaServiceOptions = {}): StackService {
  const broker = ctx.config.kafkaBrokers[0] ?? '127.0.0.1:9092';
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon);
  const port = Number(broker.slice(colon + 1));
  const paths = servicePaths(ctx.config.stateDir, 'kafka');
  const files = kafkaFiles(ctx.config.stateDir, options.libsDir);
  const log = ctx.log.child({ stackService: 'kafka' });
  return new DaemonService(
    {
      name: 'kafka',
      host,
      port,
      address: `${host}:${port}`,
      paths,
      serviceLogFile: join(files.logs, 'server.log'),
      addressVariable: 'KAFKA_BROKERS',
      startTimeoutMs: START_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      probe: () => probeKafka(host, port, options.secure?.probeClient),
      prepare: async (): Promise<LaunchSpec> => {
        const java = await requireJava();
        if (await isPortOpen(host, port + 1)) {
          throw new StackError('kafka', `the KRaft controller port ${host}:${port + 1} is in use by ${describePortHolder(port + 1) ?? 'another process'}; free it, or use \`docker compose up\``);
        }
        await ensureLibs(files, log);
        mkdirSync(files.data, { recursive: true });
        mkdirSync(files.logs, { recursive: true });
        // Mode 0600: a secure listener's file holds the inter-broker and PLAIN passwords.
        writeFileSync(files.serverProperties, renderServerProperties({ host, port, controllerPort: port + 1, dataDir: files.data, ...(options.secure ? { security: options.secure.listener } : {}) }), { mode: 0o600 });
        chmodSync(files.serverProperties, 0o600);
        writeFileSync(files.log4j, renderLog4j2Xml());
        await ensureFormatted(java, files, log, options.secure?.scramUsers ?? []);
        return { command: java, args: [...jvmArgs(files, '-Xmx1g'), 'kafka.Kafka', files.serverProperties] };
      },
    },
    ctx.log,
  );
}

/** Healthy when the port answers and a kafkajs admin can describe the cluster. */
async function probeKafka(host: string, port: number, client: Pick<KafkaConfig, 'ssl' | 'sasl'> = {}): Promise<Probe> {
  if (!(await isPortOpen(host, port))) return { kind: 'closed' };
  const kafka = new Kafka({
    ...client,
    clientId: 'claimtrail-stack-probe',
    brokers: [`${host}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_500,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return { kind: 'healthy', detail: `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)` };
  } catch (error) {
    return { kind: 'foreign', detail: `Kafka describeCluster failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await admin.disconnect();
  }
}

/** JVM flags shared by the broker and StorageTool: classpath, log4j2 config, log folder. */
function jvmArgs(files: KafkaFiles, heap: string): string[] {
  return [
    heap,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${files.logs}`,
    `-Dlog4j2.configurationFile=${files.log4j}`,
    '-cp',
    // The JVM expands `dir/*` itself; there is no shell in between.
    join(files.libs, '*'),
  ];
}

/** The `java` to run ($JAVA_HOME/bin/java first, then PATH), checked to be 17 or newer. */
async function requireJava(): Promise<string> {
  const home = process.env.JAVA_HOME;
  const java = (home !== undefined && home !== '' ? findExecutable('java', [join(home, 'bin')]) : null) ?? findExecutable('java');
  if (java === null) throw new StackError('kafka', JAVA_MISSING);
  const { stderr, stdout } = await runTool('kafka', java, ['-version'], { timeoutMs: 15_000 });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${stderr}${stdout}`);
  // Java 8 and older report "1.8.0_x".
  const major = match === null ? 0 : Number(match[1]) === 1 ? Number(match[2]) : Number(match[1]);
  if (major < 17) throw new StackError('kafka', `${JAVA_MISSING}; found ${match === null ? 'an unknown version' : `Java ${major}`} at ${java}`);
  return java;
}

/** Copies Kafka's jars into `libs` with Maven unless this version is already there. */
async function ensureLibs(files: KafkaFiles, log: StackContext['log']): Promise<void> {
  if (existsSync(join(files.libs, MARKER_JAR))) return;
  const mvn = findExecutable('mvn');
  if (mvn === null) throw new StackError('kafka', MAVEN_MISSING);
  // Copy into a side folder and rename: an interrupted copy never looks complete.
  const partial = `${files.libs}.partial`;
  rmSync(partial, { recursive: true, force: true });
  log.info({ version: KAFKA_VERSION }, 'fetching Kafka jars with Maven (first run only)');
  const result = await runTool('kafka', mvn, ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`], { timeoutMs: MAVEN_TIMEOUT_MS });
  writeFileSync(files.mavenLog, `${result.stdout}${result.stderr}`);
  if (result.code !== 0 || !existsSync(join(partial, MARKER_JAR))) {
    const lastLine = `${result.stdout}${result.stderr}`.trim().split('\n').pop() ?? '';
    throw new StackError('kafka', `mvn could not fetch Kafka ${KAFKA_VERSION} (exit ${result.code}: ${lastLine.slice(0, 200)}); check access to Maven Central, see ${files.mavenLog}`);
  }
  rmSync(files.libs, { recursive: true, force: true });
  renameSync(partial, files.libs);
}

/**
 * Formats the KRaft storage once. The cluster id is persisted in `cluster-id` (taken from an
 * already formatted `meta.properties` when the file is missing, otherwise new from `random-uuid`).
 * `scramUsers` go into the first metadata records (`--add-scram`): a SASL_SSL broker needs its
 * inter-broker user before it can talk to itself, so they cannot be added after the start.
 */
async function ensureFormatted(java: string, files: KafkaFiles, log: StackContext['log'], scramUsers: KafkaSecureBroker['scramUsers']): Promise<void> {
  const meta = join(files.data, 'meta.properties');
  const persisted = readText(files.clusterId)?.trim();
  let clusterId = persisted !== undefined && persisted !== '' ? persisted : /^cluster\.id=(.+)$/m.exec(readText(meta) ?? '')?.[1]?.trim();
  if (clusterId === undefined || clusterId === '') {
    const out = await runTool('kafka', java, [...jvmArgs(files, '-Xmx256m'), 'kafka.tools.StorageTool', 'random-uuid'], { timeoutMs: 60_000 });
    clusterId = out.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (out.code !== 0 || !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
      throw new StackError('kafka', `kafka.tools.StorageTool random-uuid failed (exit ${out.code}): ${out.stderr.trim().split('\n').pop() ?? ''}`);
    }
  }
  writeFileSync(files.clusterId, `${clusterId}\n`);
  if (existsSync(meta)) return;
  log.info({ clusterId }, 'formatting KRaft storage');
  const scram = scramUsers.flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.username},password=${u.password}]`]);
  const out = await runTool('kafka', java, [...jvmArgs(files, '-Xmx256m'), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', files.serverProperties, '--ignore-formatted', ...scram], { timeoutMs: 60_000 });
  if (out.code !== 0) {
    throw new StackError('kafka', `kafka.tools.StorageTool format failed (exit ${out.code}): ${`${out.stdout}${out.stderr}`.trim().split('\n').pop() ?? ''}`);
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
