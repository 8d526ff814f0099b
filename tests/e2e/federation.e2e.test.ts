import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from '../../core/config.ts';
import { federationTopics } from '../../federation/transport/channel.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { offlineObservations } from '../../scoring/aggregates.ts';
import { Scorer } from '../../scoring/scorer.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName } from '../support/env.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/claimtrail.js');

/**
 * End to end on the real Kafka broker and a real EVM node (a private anvil): a coordinator and
 * three participant processes of `claimtrail federate`; insurer-2 is killed (SIGKILL) right after
 * it sent its masked update in the first FedAvg round, and training completes without it; every
 * round and the model are on chain; `claimtrail federate verify` passes, and fails (exit 1) once
 * one round record of the bundle is altered; the bundle scores claims through Scorer.load.
 */
describe('claimtrail federate: coordinator + 3 participant processes', () => {
  const id = uniqueName('fede2e');
  const federation = id.replace(/[^A-Za-z0-9_-]/g, '-');
  const config = isolatedConfig();
  let anvil: PrivateAnvil;
  let dropSchema: () => Promise<void>;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    anvil = await startPrivateAnvil();
    dropSchema = await migratedSchema(config);
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fede2e-'));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const admin = createKafka(config, testLog).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(federationTopics(federation)) }).catch(() => undefined);
    await admin.disconnect();
    await dropSchema?.();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, ...isolatedEnv(config.database.schema), DATABASE_SCHEMA: config.database.schema, CHAIN_RPC_URL: anvil.rpcUrl, LOG_LEVEL: 'warn', LOG_FILE: path.join(dir, 'claimtrail.log') });

  function start(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null>; waitFor: (text: string, ms: number) => Promise<void> } {
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const listeners: (() => void)[] = [];
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      listeners.forEach((l) => l());
    });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = (text: string, ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}"; output:\n${out}`)), ms);
        listeners.push(() => {
          if (out.includes(text)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    return { child, output: () => out, exited, waitFor };
  }

  it('trains across three insurer processes with one killed after masking; verify passes, and fails after altering a round', async () => {
    const keys: Record<string, { id: string; publicKey: string }> = {};
    for (const who of ['coordinator', 'insurer-0', 'insurer-1', 'insurer-2']) {
      const { stdout } = await run(process.execPath, [CLI, 'federate', 'keygen', '--id', who, '--out', path.join(dir, `${who}.pem`)], { env: env() });
      keys[who] = JSON.parse(stdout.trim());
    }
    const registryFile = path.join(dir, 'registry.json');
    await writeFile(registryFile, JSON.stringify({ format: 'claimtrail-federation-registry-v1', coordinator: keys.coordinator, participants: [keys['insurer-0'], keys['insurer-1'], keys['insurer-2']] }));
    const chainKeyFile = path.join(dir, 'chain.key');
    await writeFile(chainKeyFile, anvil.signerKey, { mode: 0o600 });

    const participants = [0, 1, 2].map((k) =>
      start(['federate', 'participant', '--federation', federation, '--id', `insurer-${k}`, '--key', path.join(dir, `insurer-${k}.pem`), '--registry', registryFile, '--generate', '700', '--seed', String(10 + k), '--hidden', '8']),
    );
    const bundle = path.join(dir, 'bundle');
    const coordinator = start(['federate', 'coordinator', '--federation', federation, '--key', path.join(dir, 'coordinator.pem'), '--registry', registryFile, '--out', bundle, '--chain-key-file', chainKeyFile, '--rounds', '2', '--local-epochs', '1', '--trees', '12', '--hidden', '8', '--step-timeout', '10']);

    // insurer-2 dies right after its masked update of round 2 (the first FedAvg round).
    await participants[2]!.waitFor('masked update sent (round 2)', 240_000);
    participants[2]!.child.kill('SIGKILL');

    const code = await coordinator.exited;
    const out = coordinator.output();
    expect(code, out).toBe(0);
    expect(await participants[0]!.exited, participants[0]!.output()).toBe(0);
    expect(await participants[1]!.exited, participants[1]!.output()).toBe(0);
    expect(out).toContain('coordinator: 3 participants joined');
    expect(out).toMatch(/round 2 fedavg: 3 survivors/); // its masked update arrived: its self mask is rebuilt from the others' shares
    expect(out).toMatch(/round 3 validate: 2 survivors/); // the rounds after the kill go on with two
    const modelHash = /federated model (0x[0-9a-f]{64})/.exec(out)![1]!;
    const contract = /FederationRegistry (0x[0-9a-fA-F]{40})/.exec(out)![1]!;
    const coordinatorAddress = /coordinator (0x[0-9a-fA-F]{40})/.exec(out)![1]!;

    const verifyArgs = (b: string) => ['federate', 'verify', modelHash, '--bundle', b, '--registry-contract', contract, '--coordinator', coordinatorAddress, '--rpc', anvil.rpcUrl];
    const pass = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, ...verifyArgs(bundle)], { env: env() });
    expect(pass.stdout).toContain(`federate verify: PASS ${modelHash}`);

    const altered = path.join(dir, 'altered');
    await cp(bundle, altered, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(altered, 'manifest.json'), 'utf8'));
    manifest.training.federation.rounds[1].aggregateHash = '0'.repeat(64);
    await writeFile(path.join(altered, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const fail = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, ...verifyArgs(altered)], { env: env() }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(fail?.code).toBe(1);
    expect(fail?.stdout).toContain('FAIL rounds: round record(s) 1 differ from the chain');
    expect(fail?.stderr).toContain('federate verify: FAIL');

    const scorer = await Scorer.load(bundle);
    expect(scorer.modelHash).toBe(modelHash);
    const claims = generateClaims({ count: 30, seed: 3 }).claims;
    expect(scorer.scoreBatch(claims, offlineObservations(claims, scorer.aggregates))).toHaveLength(30);
  }, 600_000);
});
