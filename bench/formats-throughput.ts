/**
 * Formats throughput (issue 16): X12 837P split + map (produce side) and slice decode (ingest
 * side), FHIR decode + validate + map, beside the own-JSON decode, in claims per CPU-second; plus
 * a 50 MiB interchange. Run: `node_modules/.bin/node bench/formats-throughput.ts` (Node 24).
 * Needs ../shared/samples beside the checkout.
 */
import { readFileSync } from 'node:fs';
import { splitX12 } from '../ingest/x12/x12-interchange.ts';
import { decodeClaim } from '../ingest/claim-decoder.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { claimToFhir } from '../fixtures/fhir-writer.ts';
const base = readFileSync(new URL('../../shared/samples/x12/home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi', import.meta.url), 'latin1');
const segs = base.split('~');
const st = segs.findIndex((s) => s.startsWith('ST*'));
const hl2 = segs.findIndex((s) => s.startsWith('HL*2')); const se = segs.findIndex((s) => s.startsWith('SE*'));
const N = 10000; const body: string[] = segs.slice(st, hl2);
for (let k = 0; k < N; k++) body.push(...segs.slice(hl2, se).map((s) => s.startsWith('HL*2') ? `HL*${k + 2}*1*22*0` : s.startsWith('CLM*') ? s.replace('CLMNO12345', `CLM${k}`) : s));
body.push(`SE*${body.length + 1}*0711`);
const text = [segs[0], segs[1], ...body, 'GE*1*20213', 'IEA*1*000010216', ''].join('~');
const buf = Buffer.from(text, 'latin1');
let t = process.cpuUsage(); const r = splitX12(buf); let u = process.cpuUsage(t);
console.log('837P split+map', r.messages.length, 'claims', (buf.length/1048576).toFixed(1), 'MiB', Math.round(r.messages.length / ((u.user + u.system) / 1e6)), 'claims/cpu-s', r.messages.filter(m=>m.mapped.ok).length, 'ok');
t = process.cpuUsage(); for (const m of r.messages) decodeClaim(m.slice, { 'content-type': 'application/edi-x12', 'x-x12-positions': m.positions }); u = process.cpuUsage(t);
console.log('837P slice decode (ingest)', Math.round(r.messages.length / ((u.user + u.system) / 1e6)), 'claims/cpu-s');
const { claims } = generateClaims({ count: 3000, seed: 1 });
const json = claims.map((c) => Buffer.from(JSON.stringify(c))); const fhir = claims.map((c) => Buffer.from(JSON.stringify(claimToFhir(c))));
decodeClaim(fhir[0]!, { 'content-type': 'application/fhir+json' });
t = process.cpuUsage(); for (const b of json) decodeClaim(b); u = process.cpuUsage(t); console.log('JSON decode', Math.round(json.length / ((u.user + u.system) / 1e6)), 'claims/cpu-s');
t = process.cpuUsage(); for (const b of fhir) decodeClaim(b, { 'content-type': 'application/fhir+json' }); u = process.cpuUsage(t); console.log('FHIR decode', Math.round(fhir.length / ((u.user + u.system) / 1e6)), 'claims/cpu-s');
// 50 MiB interchange
const big: string[] = segs.slice(st, hl2); let k = 0; let size = 0;
while (size < 50 * 1048576) { const part = segs.slice(hl2, se).map((s) => s.startsWith('HL*2') ? `HL*${k + 2}*1*22*0` : s.startsWith('CLM*') ? s.replace('CLMNO12345', `C${k}`) : s); big.push(...part); size += part.join('~').length + 1; k++; }
big.push(`SE*${big.length + 1}*0711`);
const bigBuf = Buffer.from([segs[0], segs[1], ...big, 'GE*1*20213', 'IEA*1*000010216', ''].join('~'), 'latin1');
t = process.cpuUsage(); const rb = splitX12(bigBuf); u = process.cpuUsage(t);
console.log('50 MiB:', (bigBuf.length/1048576).toFixed(1), 'MiB', rb.messages.length, 'claims in', ((u.user+u.system)/1e6).toFixed(1), 'cpu-s; max slice', Math.max(...rb.messages.map(m=>m.slice.length)), 'bytes; rss MiB', Math.round(process.memoryUsage().rss/1048576));
