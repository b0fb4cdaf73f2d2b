// Typical ranges for a B2B sales call, as conversation-intelligence studies of top sellers
// commonly report them. They frame a champion's metrics; they are guides, not rules.

export interface Benchmark {
  key: string;
  label: string;
  low: number;
  high: number;
  scaleMax: number;
  format: (value: number) => string;
  meaning: string;
}

const percent = (value: number) => `${Math.round(value * 100)}%`;
const seconds = (value: number) => `${value.toFixed(1)} s`;
const decimal = (value: number) => value.toFixed(1);

export const BENCHMARKS: Benchmark[] = [
  { key: "talk_ratio", label: "Talk ratio", low: 0.4, high: 0.6, scaleMax: 1, format: percent,
    meaning: "share of the call the champion spoke" },
  { key: "questions_per_minute", label: "Questions per minute", low: 0.3, high: 1.2, scaleMax: 3, format: decimal,
    meaning: "questions the champion asked per minute" },
  { key: "longest_monologue_seconds", label: "Longest monologue", low: 0, high: 76, scaleMax: 180, format: seconds,
    meaning: "the champion's longest stretch without a break" },
  { key: "words_per_minute", label: "Speaking pace", low: 140, high: 180, scaleMax: 260, format: (v) => `${Math.round(v)} wpm`,
    meaning: "words per minute while speaking" },
  { key: "filler_rate_per_100_words", label: "Filler words", low: 0, high: 3, scaleMax: 10, format: (v) => `${decimal(v)} per 100 words`,
    meaning: "um, uh, like… per 100 words" },
  { key: "patience_seconds", label: "Patience", low: 0.6, high: 2, scaleMax: 4, format: seconds,
    meaning: "pause before answering the prospect" },
];

export function verdict(benchmark: Benchmark, value: number): string {
  if (value < benchmark.low) return "below the typical range";
  if (value > benchmark.high) return "above the typical range";
  return "within the typical range";
}
