/**
 * Hand-written SVG line and bar charts for the evaluation report: no dependencies, deterministic
 * output (same data, same bytes). Axes run over [0, 1] unless said otherwise.
 */

const W = 420;
const H = 320;
const M = { left: 48, right: 12, top: 28, bottom: 40 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

const x = (v: number): number => M.left + v * (W - M.left - M.right);
const y = (v: number, max = 1): number => H - M.bottom - (v / max) * (H - M.top - M.bottom);
const f = (v: number): string => v.toFixed(1);
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function frame(title: string, xLabel: string, yLabel: string, yMax = 1): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(0)}" stroke="black"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(yMax, yMax)}" stroke="black"/>`,
    `<text x="${(x(0) + x(1)) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="12" y="${(y(0) + y(1)) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(y(0) + y(1)) / 2})">${esc(yLabel)}</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = t / 4;
    parts.push(`<text x="${f(x(v))}" y="${y(0) + 14}" text-anchor="middle">${v.toFixed(2)}</text>`);
    parts.push(`<text x="${x(0) - 4}" y="${f(y(v * yMax, yMax) + 4)}" text-anchor="end">${yMax === 1 ? v.toFixed(2) : Math.round(v * yMax)}</text>`);
  }
  return parts;
}

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

/** Line chart of series over the unit square, with an optional dashed diagonal. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], diagonal = false): string {
  const parts = frame(title, xLabel, yLabel);
  if (diagonal) parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const pts = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)).map(([a, b]) => `${f(x(a))},${f(y(b))}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push(`<rect x="${x(0.62)}" y="${M.top + 4 + i * 14}" width="10" height="3" fill="${color}"/><text x="${x(0.62) + 14}" y="${M.top + 9 + i * 14}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Two overlaid histograms (counts per equal-width bin over [0, 1]), each scaled to its own total. */
export function histogramChart(title: string, a: { name: string; counts: readonly number[] }, b: { name: string; counts: readonly number[] }): string {
  const share = (c: readonly number[]): number[] => {
    const total = c.reduce((s, v) => s + v, 0) || 1;
    return c.map((v) => v / total);
  };
  const sa = share(a.counts);
  const sb = share(b.counts);
  const max = Math.max(0.05, ...sa, ...sb);
  const parts = frame(title, 'score', 'share of the class', 1).slice(0, 7);
  for (let t = 0; t <= 4; t++) {
    parts.push(`<text x="${f(x(t / 4))}" y="${y(0) + 14}" text-anchor="middle">${(t / 4).toFixed(2)}</text>`);
    parts.push(`<text x="${x(0) - 4}" y="${f(y((t / 4) * max, max) + 4)}" text-anchor="end">${((t / 4) * max).toFixed(2)}</text>`);
  }
  const bins = sa.length;
  const bw = (x(1) - x(0)) / bins;
  [sa, sb].forEach((s, k) => {
    const color = COLORS[k === 0 ? 3 : 0] as string;
    s.forEach((v, i) => parts.push(`<rect x="${f(x(i / bins) + (k * bw) / 2)}" y="${f(y(v, max))}" width="${f(bw / 2)}" height="${f(y(0) - y(v, max))}" fill="${color}" fill-opacity="0.75"/>`));
    parts.push(`<rect x="${x(0.62)}" y="${M.top + 4 + k * 14}" width="10" height="8" fill="${color}"/><text x="${x(0.62) + 14}" y="${M.top + 12 + k * 14}">${esc(k === 0 ? a.name : b.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
