/**
 * Formats throughput (issue 16): X12 837P split + map (produce side) and slice decode (ingest
 * side), FHIR decode + validate + map, beside the own-JSON decode, in claims per CPU-second; plus
 * a 50 MiB interchange. Run: `node_modules/.bin/node bench/formats-throughput.ts [--rounds 5]`
 * (Node 24). Needs ../shared/samples beside the checkout.
 *
 * Each measurement is taken `rounds` times on the same input: the first round (cold: the JIT has
 * not seen the code yet) is printed apart, the steady state is the median of the others. CPU time
 * (`process.cpuUsage`, user + system) rather than wall time, so a busy machine slows the figure
 * less; it still varies by 10-20 % on shared cores.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { splitX12 } from '../ingest/x12/x12-interchange.ts';
import { decodeClaim } from '../ingest/claim-decoder.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { claimToFhir } from '../fixtures/fhir-writer.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Math.max(2, Number(values.rounds));

const base = readFileSync(new URL('../../shared/samples/x12/home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi', import.meta.url), 'latin1');
const segs = base.split('~');
const st = segs.findIndex((s) => s.startsWith('ST*'));
const hl2 = segs.findIndex((s) => s.startsWith('HL*2'));
const se = segs.findIndex((s) => s.startsWith('SE*'));

/** The sample's one claim repeated under new subscriber HLs until `enough(claims, bytes)`. */
function interchange(enough: (claims: number, bytes: number) => boolean): Buffer {
  const body: string[] = segs.slice(st, hl2);
  let size = 0;
  for (let k = 0; !enough(k, size); k++) {
    const part = segs.slice(hl2, se).map((s) => (s.startsWith('HL*2') ? `HL*${k + 2}*1*22*0` : s.startsWith('CLM*') ? s.replace('CLMNO12345', `CLM${k}`) : s));
    body.push(...part);
    size += part.join('~').length + 1;
  }
  body.push(`SE*${body.length + 1}*0711`);
  return Buffer.from([segs[0], segs[1], ...body, 'GE*1*20213', 'IEA*1*000010216', ''].join('~'), 'latin1');
}

/** Claims per CPU-second of `run` (which handles `n` claims): cold first round, median of the rest. */
function measure(label: string, n: number, run: () => void): void {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.cpuUsage();
    run();
    const u = process.cpuUsage(t);
    rates.push(Math.round(n / ((u.user + u.system) / 1e6)));
  }
  const warm = rates.slice(1).sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} ${String(warm[Math.floor(warm.length / 2)]).padStart(7)} claims/cpu-s steady (cold ${rates[0]}; rounds ${rates.join(' ')})`);
}

const buf = interchange((k) => k >= 10_000);
const split = splitX12(buf);
console.log(`837P interchange: ${split.messages.length} claims, ${(buf.length / 1048576).toFixed(1)} MiB, ${split.messages.filter((m) => m.mapped.ok).length} mapped ok`);
measure('837P split+map (produce side)', split.messages.length, () => splitX12(buf));
measure('837P slice decode (ingest)', split.messages.length, () => {
  for (const m of split.messages) decodeClaim(m.slice, { 'content-type': 'application/edi-x12', 'x-x12-positions': m.positions });
});

const { claims } = generateClaims({ count: 3000, seed: 1 });
const json = claims.map((c) => Buffer.from(JSON.stringify(c)));
const fhir = claims.map((c) => Buffer.from(JSON.stringify(claimToFhir(c))));
decodeClaim(fhir[0]!, { 'content-type': 'application/fhir+json' });
measure('JSON decode', json.length, () => {
  for (const b of json) decodeClaim(b);
});
measure('FHIR decode', fhir.length, () => {
  for (const b of fhir) decodeClaim(b, { 'content-type': 'application/fhir+json' });
});

const bigBuf = interchange((_, bytes) => bytes >= 50 * 1048576);
const t = process.cpuUsage();
const rb = splitX12(bigBuf);
const u = process.cpuUsage(t);
const cpu = (u.user + u.system) / 1e6;
console.log(`50 MiB: ${(bigBuf.length / 1048576).toFixed(1)} MiB, ${rb.messages.length} claims in ${cpu.toFixed(1)} cpu-s (${Math.round(rb.messages.length / cpu)} claims/cpu-s); max slice ${Math.max(...rb.messages.map((m) => m.slice.length))} bytes; rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB`);
