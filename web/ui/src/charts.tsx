// Small SVG charts with text equivalents: a value against a range, and scores over time.
import { type Benchmark, verdict } from "./benchmarks";

/** One metric as a marker on a scale, with the typical range shaded. */
export function RangeChart(props: { benchmark: Benchmark; value: number }) {
  const { benchmark: b, value } = props;
  const width = 300;
  const x = (v: number) => 8 + (Math.min(Math.max(v, 0), b.scaleMax) / b.scaleMax) * (width - 16);
  const summary = `${b.label}: ${b.format(value)}, ${verdict(b, value)} (${b.format(b.low)}–${b.format(b.high)})`;
  return (
    <figure class="metric">
      <figcaption>
        <strong>{b.label}</strong> <span class="metric-value">{b.format(value)}</span>
        <span class="muted"> — {verdict(b, value)}</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} 30`} role="img" aria-label={summary} class="range-chart">
        <line x1={8} x2={width - 8} y1={15} y2={15} class="axis" />
        <rect x={x(b.low)} y={7} width={Math.max(2, x(b.high) - x(b.low))} height={16} class="band" />
        <circle cx={x(value)} cy={15} r={6} class="marker" />
      </svg>
      <p class="hint">
        Typical: {b.format(b.low)}–{b.format(b.high)} · {b.meaning}
      </p>
    </figure>
  );
}

export interface Point {
  label: string;
  value: number;
}

/** Scores (0-100) in order, as a line with the pass mark; a table follows for screen readers. */
export function ScoreLine(props: { points: Point[]; passMark: number; title: string }) {
  const { points } = props;
  const width = 360;
  const height = 140;
  const left = 30;
  const step = points.length > 1 ? (width - left - 10) / (points.length - 1) : 0;
  const x = (i: number) => (points.length > 1 ? left + i * step : (width + left) / 2);
  const y = (v: number) => 10 + (1 - v / 100) * (height - 30);
  return (
    <figure class="score-line">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title}: ${points.map((p) => `${p.label} ${Math.round(p.value)}`).join(", ")}`}>
        {[0, 50, 100].map((tick) => (
          <g key={tick}>
            <line x1={left} x2={width - 10} y1={y(tick)} y2={y(tick)} class="grid" />
            <text x={left - 4} y={y(tick) + 4} class="tick" text-anchor="end">
              {tick}
            </text>
          </g>
        ))}
        <line x1={left} x2={width - 10} y1={y(props.passMark)} y2={y(props.passMark)} class="pass" />
        <polyline points={points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ")} class="line" />
        {points.map((p, i) => (
          <circle key={i} cx={x(i)} cy={y(p.value)} r={4} class="dot">
            <title>
              {p.label}: {Math.round(p.value)}
            </title>
          </circle>
        ))}
      </svg>
      <figcaption class="hint">Dashed line: the pass mark ({props.passMark}).</figcaption>
    </figure>
  );
}
