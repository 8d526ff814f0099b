import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbiCoder, getBytes, hexlify, toUtf8Bytes, type JsonRpcProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { trainModel } from '../../training/train.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * Privacy: after a pipeline run on the real stack, every input and every log (topics and data) of
 * every transaction the pipeline sent during the run (or sent to its contract) is scanned for every claim field value, as UTF-8,
 * as hex text, ABI-encoded (strings are their UTF-8 bytes, padded; numbers 32-byte words) and as
 * raw big-endian integers. Nothing may match.
 *
 * Needle limits (to keep random 32-byte hashes from matching by chance, which would be noise,
 * not a leak): text needles of at least 5 bytes (shorter codes such as a 3-character ICD-10
 * category would match hash bytes about once per 16 MB scanned), word needles for numbers
 * >= 65536 (smaller words are ABI offsets and lengths), raw integers of at least 5 bytes.
 */
const CLAIMS = 200;
const SEED = 8080;

interface Needle {
  what: string;
  bytes: Uint8Array;
  /** `word`: match only at 32-byte word boundaries (ABI-encoded numbers). */
  mode: 'anywhere' | 'word';
}

function needlesOf(claims: readonly Claim[]): Needle[] {
  const out: Needle[] = [];
  const text = (what: string, value: string | undefined) => {
    if (!value) return;
    for (const v of new Set([value, value.replace('.', '')])) {
      const utf8 = toUtf8Bytes(v);
      if (utf8.length < 5) continue;
      out.push({ what: `${what} ${v} (utf8 / abi string)`, bytes: utf8, mode: 'anywhere' });
      out.push({ what: `${what} ${v} (hex text)`, bytes: toUtf8Bytes(hexlify(utf8).slice(2)), mode: 'anywhere' });
    }
  };
  const number = (what: string, value: bigint) => {
    if (value < 65536n) return;
    out.push({ what: `${what} ${value} (abi uint256)`, bytes: getBytes(AbiCoder.defaultAbiCoder().encode(['uint256'], [value])), mode: 'word' });
    const raw = getBytes(`0x${value.toString(16).padStart(value.toString(16).length + (value.toString(16).length % 2), '0')}`);
    if (raw.length >= 5) out.push({ what: `${what} ${value} (raw big-endian)`, bytes: raw, mode: 'anywhere' });
  };
  const money = (what: string, v: number | undefined) => {
    if (v === undefined) return;
    number(`${what} cents`, BigInt(Math.round(v * 100)));
    if (Number.isInteger(v)) number(what, BigInt(v));
    text(what, v.toFixed(2));
  };
  const date = (what: string, v: string | undefined) => {
    if (!v) return;
    text(what, v);
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) {
      number(`${what} unix s`, BigInt(Math.floor(ms / 1000)));
      number(`${what} unix ms`, BigInt(ms));
    }
  };
  for (const c of claims) {
    text('claimId', c.claimId);
    text('memberId', c.memberId);
    for (const npi of [c.billingProviderNpi, c.attendingProviderNpi]) {
      text('NPI', npi);
      if (npi) number('NPI', BigInt(npi));
    }
    for (const d of c.diagnosisCodes) text('diagnosis', d);
    for (const [k, v] of [['serviceFrom', c.serviceFrom], ['serviceTo', c.serviceTo], ['admissionDate', c.admissionDate], ['dischargeDate', c.dischargeDate], ['memberDateOfBirth', c.memberDateOfBirth], ['memberDateOfDeath', c.memberDateOfDeath], ['submittedAt', c.submittedAt]] as const) date(k, v);
    for (const [k, v] of [['totalCharged', c.totalCharged], ['totalAllowed', c.totalAllowed], ['totalPaid', c.totalPaid], ['deductible', c.deductible]] as const) money(k, v);
    for (const line of c.lines) {
      text('procedure', line.procedureCode);
      money('chargedAmount', line.chargedAmount);
      date('serviceDate', line.serviceDate);
    }
  }
  return out;
}

function find(haystack: Uint8Array, needle: Needle, wordBase: number): boolean {
  const n = needle.bytes;
  const step = needle.mode === 'word' ? 32 : 1;
  for (let i = needle.mode === 'word' ? wordBase : 0; i + n.length <= haystack.length; i += step) {
    let j = 0;
    while (j < n.length && haystack[i + j] === n[j]) j++;
    if (j === n.length) return true;
  }
  return false;
}

/**
 * Every input and log of the transactions this pipeline sent (from its signer) or that reached its
 * DecisionAnchor, in blocks (from, to]: `[label, bytes, wordBase]` (word base 4 skips the
 * selector). Other processes may mine on the shared dev chain meanwhile (the fault smokes run
 * beside this test and deploy contracts whose bytecode can match a short needle by chance);
 * what matters is what claimtrail wrote.
 */
async function chainData(provider: JsonRpcProvider, from: number, to: number, ours: { signer: string; contract: string }): Promise<Array<[string, Uint8Array, number]>> {
  const out: Array<[string, Uint8Array, number]> = [];
  const signer = ours.signer.toLowerCase();
  const contract = ours.contract.toLowerCase();
  for (let n = from + 1; n <= to; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== signer && tx.to?.toLowerCase() !== contract) continue;
      out.push([`tx ${tx.hash} input`, getBytes(tx.data), 4]);
      const receipt = await provider.getTransactionReceipt(tx.hash);
      for (const log of receipt?.logs ?? []) {
        out.push([`tx ${tx.hash} log ${log.index} data`, getBytes(log.data), 0]);
        for (const topic of log.topics) out.push([`tx ${tx.hash} log ${log.index} topic`, getBytes(topic), 0]);
      }
    }
  }
  return out;
}

describe(`privacy: no claim field on chain after ${CLAIMS} claims through the real stack`, () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let firstBlock: number;
  let lastBlock: number;
  const { claims } = generateClaims({ count: CLAIMS, seed: SEED });

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 1500, seed: 13 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 13, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '60', BATCH_MAX_AGE_MS: '1000' });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    firstBlock = await pipeline.anchor!.v2.provider.getBlockNumber();
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
    lastBlock = await pipeline.anchor!.v2.provider.getBlockNumber();
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('the scanner finds a claim field wherever it is encoded (positive control)', () => {
    // A claim whose total is a word needle (>= 655.36 in cents, see the limits above).
    const c = claims.find((x) => Math.round(x.totalCharged * 100) >= 65536)!;
    const needles = needlesOf([c]);
    const abiString = getBytes(AbiCoder.defaultAbiCoder().encode(['bytes32', 'string'], [`0x${'11'.repeat(32)}`, `claim ${c.claimId}`]));
    expect(needles.some((n) => n.what.startsWith('claimId') && find(abiString, n, 0))).toBe(true);
    const abiAmount = getBytes(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [`0x${'22'.repeat(32)}`, BigInt(Math.round(c.totalCharged * 100))]));
    expect(needles.some((n) => n.what.startsWith('totalCharged cents') && n.mode === 'word' && find(abiAmount, n, 0))).toBe(true);
  });

  it('no input or log of a transaction the pipeline sent (or that reached its contract) during the run holds any claim field value', async () => {
    const needles = needlesOf(claims);
    expect(needles.length).toBeGreaterThan(CLAIMS * 5);
    const data = await chainData(pipeline.anchor!.v2.provider, firstBlock, lastBlock, { signer: pipeline.anchor!.tx.address, contract: pipeline.anchor!.client!.address });
    // The run did write to the chain: batch roots and flagged leaves.
    // (Several roots, and several batches' flagged leaves, share a transaction: no count per batch.)
    const counts = await pipeline.index.counts();
    expect(counts.batches).toBeGreaterThan(0);
    expect(counts.anchored).toBe(counts.batches);
    expect(data.filter(([label]) => label.endsWith('input')).length).toBeGreaterThan(0);
    const leaks: string[] = [];
    for (const [label, bytes, wordBase] of data) {
      for (const needle of needles) if (find(bytes, needle, wordBase)) leaks.push(`${needle.what} in ${label}`);
    }
    expect(leaks).toEqual([]);
  }, 300_000);
});
