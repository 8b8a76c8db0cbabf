/**
 * Loss curves as a standalone SVG a browser opens: axes with ticks, labels, a legend, one
 * <path> per series. Hand-written (no plotting dependency): a line plot is a few coordinates.
 */

export interface PlotSeries {
  name: string;
  /** [x, y] points in x order. */
  points: readonly (readonly [number, number])[];
}

export interface CurvePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
}

/** Canvas and margins in SVG user units (pixels). */
const WIDTH = 720;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 170, top: 40, bottom: 55 };
const TICKS = 5;
/** A curve's first point may sit far above the rest (a scratch model's start): the y axis ends at this many times the other points' span above their minimum, and the line leaves the top of the plot. */
const START_OUTLIER_SPAN = 1.5;
/** Colour-blind-safe line colours (Okabe and Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const round = (x: number): number => Math.round(x * 10) / 10;
/** Room above and below the curves, as a fraction of their span. */
const Y_PADDING = 0.05;

/** Tick values at a 1, 2 or 5 x 10^k spacing covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = TICKS): number[] {
  const span = hi > lo ? hi - lo : Math.abs(hi) || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The y range: every point, except first points far above the others. */
function yRange(series: readonly PlotSeries[]): [number, number] {
  const later = series.flatMap((s) => s.points.slice(1).map((p) => p[1]));
  const firsts = series.flatMap((s) => (s.points.length > 0 ? [s.points[0][1]] : []));
  const all = later.length > 0 ? later : firsts;
  const lo = Math.min(...all, ...firsts);
  let hi = Math.max(...all);
  for (const y of firsts) if (y <= lo + START_OUTLIER_SPAN * (hi - lo)) hi = Math.max(hi, y);
  const pad = hi > lo ? Y_PADDING * (hi - lo) : 0.5;
  return [lo - pad, hi + pad];
}

function axes(plot: CurvePlot, x: (v: number) => number, y: (v: number) => number, xTicks: number[], yTicks: number[]): string[] {
  const [left, right, top, bottom] = [MARGIN.left, WIDTH - MARGIN.right, MARGIN.top, HEIGHT - MARGIN.bottom];
  return [
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#888"/>`,
    ...xTicks.map((t) => `<line x1="${round(x(t))}" y1="${bottom}" x2="${round(x(t))}" y2="${bottom + 5}" stroke="#888"/><text x="${round(x(t))}" y="${bottom + 20}" text-anchor="middle">${t}</text>`),
    ...yTicks.map((t) => `<line x1="${left - 5}" y1="${round(y(t))}" x2="${right}" y2="${round(y(t))}" stroke="#eee"/><text x="${left - 8}" y="${round(y(t)) + 4}" text-anchor="end">${t}</text>`),
    `<text x="${(left + right) / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escape(plot.xLabel)}</text>`,
    `<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(plot.yLabel)}</text>`,
    `<text x="${(left + right) / 2}" y="${top - 15}" text-anchor="middle" font-weight="bold">${escape(plot.title)}</text>`,
  ];
}

function legend(series: readonly PlotSeries[]): string[] {
  const left = WIDTH - MARGIN.right + 15;
  return series.map((s, i) => {
    const y = MARGIN.top + 10 + i * 22;
    const colour = COLOURS[i % COLOURS.length];
    return `<line x1="${left}" y1="${y}" x2="${left + 24}" y2="${y}" stroke="${colour}" stroke-width="2.5"/><text x="${left + 30}" y="${y + 4}">${escape(s.name)}</text>`;
  });
}

/** The plot as an SVG document. */
export function renderCurvePlot(plot: CurvePlot): string {
  const xs = plot.series.flatMap((s) => s.points.map((p) => p[0]));
  const [xLo, xHi] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  const [yLo, yHi] = yRange(plot.series);
  const x = (v: number): number => MARGIN.left + ((v - xLo) / (xHi - xLo)) * (WIDTH - MARGIN.left - MARGIN.right);
  const y = (v: number): number => HEIGHT - MARGIN.bottom - ((v - yLo) / (yHi - yLo)) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const paths = plot.series.map((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${round(x(p[0]))} ${round(y(p[1]))}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" clip-path="url(#plot)"><title>${escape(s.name)}</title></path>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<clipPath id="plot"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}"/></clipPath>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    ...axes(plot, x, y, niceTicks(xLo, xHi), niceTicks(yLo, yHi)),
    ...paths,
    ...legend(plot.series),
    '</svg>',
    '',
  ].join('\n');
}
