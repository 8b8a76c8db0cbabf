import { describe, expect, it } from 'vitest';
import { niceTicks, renderCurvePlot } from '../../src/output/curve_plot.js';

describe('curve plot', () => {
  it('puts ticks at 1, 2 or 5 x 10^k', () => {
    expect(niceTicks(0, 200)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(1.7, 3.2)).toEqual([2, 2.5, 3]);
    expect(niceTicks(1.81, 1.87)).toEqual([1.82, 1.84, 1.86]);
  });

  it('keeps the y axis on the curves when one starts far above them (a scratch model)', () => {
    const svg = renderCurvePlot({
      title: 't & <b>',
      xLabel: 'steps',
      yLabel: 'loss',
      series: [
        { name: 'grown', points: [[0, 1.9], [10, 1.8], [20, 1.7]] },
        { name: 'scratch', points: [[0, 5.5], [10, 2.6], [20, 2.4]] },
      ],
    });
    expect(svg).toContain('t &amp; &lt;b&gt;');
    expect(svg.match(/<path /g)).toHaveLength(2);
    const labels = [...svg.matchAll(/text-anchor="end">([\d.]+)</g)].map((m) => Number(m[1]));
    expect(Math.max(...labels)).toBeLessThan(3); // 5.5 is off the top, clipped
    expect(svg).toContain('clip-path="url(#plot)"');
  });
});
