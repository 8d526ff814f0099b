import type { TimelinePoint } from './pipeline-run.ts';

/** One line of a panel. */
export interface Series {
  name: string;
  points: ReadonlyArray<{ t: number; v: number }>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 860;
const H = 250;
const M = { left: 70, right: 190, top: 28, bottom: 36 };

function escape(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((c) => c >= v) ?? v;
}

function panel(title: string, unit: string, series: readonly Series[], offsetY: number): string {
  const maxT = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.t)));
  const maxV = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v))));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number) => M.left + (t / maxT) * pw;
  const y = (v: number) => offsetY + M.top + ph - (v / maxV) * ph;
  const out: string[] = [`<text x="${M.left}" y="${offsetY + 18}" font-weight="bold">${escape(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (maxV * i) / 4;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toPrecision(3)).toLocaleString('en-US')}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const t = (maxT * i) / 5;
    out.push(`<text x="${x(t)}" y="${offsetY + H - 14}" text-anchor="middle">${t.toFixed(0)} s</text>`);
  }
  out.push(`<text x="14" y="${offsetY + M.top + ph / 2}" transform="rotate(-90 14 ${offsetY + M.top + ph / 2})" text-anchor="middle">${escape(unit)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    if (pts) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts}"/>`);
    out.push(`<rect x="${W - M.right + 12}" y="${offsetY + M.top + i * 18}" width="12" height="3" fill="${color}"/>`);
    out.push(`<text x="${W - M.right + 30}" y="${offsetY + M.top + i * 18 + 5}">${escape(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Hand-written SVG: decisions/s per second of each run, and latency p99 per second of the open-loop runs. */
export function timelineSvg(caption: string, runs: ReadonlyArray<{ name: string; timeline: readonly TimelinePoint[]; latency: boolean }>): string {
  const throughput = runs.map((r) => ({ name: r.name, points: r.timeline.map((p) => ({ t: p.t, v: p.decisionsPerSecond })) }));
  const latency = runs.filter((r) => r.latency).flatMap((r) => [
    { name: `${r.name} p99`, points: r.timeline.filter((p) => p.p99Ms > 0).map((p) => ({ t: p.t, v: p.p99Ms })) },
    { name: `${r.name} p50`, points: r.timeline.filter((p) => p.p50Ms > 0).map((p) => ({ t: p.t, v: p.p50Ms })) },
  ]);
  const lag = runs.map((r) => ({ name: r.name, points: r.timeline.map((p) => ({ t: p.t, v: p.lag })) }));
  const height = 3 * H + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel('Throughput: decisions committed per second', 'decisions/s', throughput, 0),
    panel('Latency: claim sent -> decision committed (per 1 s window)', 'ms', latency, H),
    panel('Consumer lag of the scoring group on claims', 'messages', lag, 2 * H),
    `<text x="${M.left}" y="${height - 8}" fill="#555">${escape(caption)}</text>`,
    '</svg>',
  ].join('\n');
}
