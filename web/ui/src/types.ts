// The API's shapes, as the server's response models declare them (see /docs).

export type ChampionStatus = "uploaded" | "queued" | "processing" | "ready" | "failed";

export interface Job {
  id: string;
  status: "queued" | "running" | "completed" | "failed";
  step: string | null;
  progress: number;
  completed_steps: string[];
  error: string | null;
}

export interface ChampionSummary {
  id: string;
  name: string;
  status: ChampionStatus;
  error: string | null;
  media_kind: string;
  media_format: string;
  duration_seconds: number | null;
  created_at: string;
}

export interface Pattern {
  id: string;
  category: string;
  quote: string;
  start: number;
  end: number;
  why: string;
  provider: string;
}

export interface Champion extends ChampionSummary {
  source_filename: string;
  champion_speaker: string | null;
  metrics: Record<string, number | string | null> | null;
  voice_profile: Record<string, { provider?: string } & Record<string, unknown>> | null;
  patterns: Pattern[];
  scenario_count: number;
  latest_job: Job | null;
}

export interface Segment {
  start: number;
  end: number;
  speaker: string;
  text: string;
}

export interface Transcript {
  champion_id: string;
  provider: string;
  champion_speaker: string | null;
  segments: Segment[];
}

export interface Objection {
  text: string;
  order: number;
  kind: string;
  champion_response?: string;
}

export interface Scenario {
  id: string;
  champion_id: string;
  title: string;
  goal: string;
  opening_line: string;
  persona: { name?: string; role?: string; company?: string; personality?: string };
  objections: Objection[];
  difficulty_levels: Record<string, { description?: string }>;
  provider: string;
}

export type Mode = "roleplay" | "demo";
export type Difficulty = "easy" | "medium" | "hard";

export interface TrainingStarted {
  session_id: string;
  mode: Mode;
  difficulty: Difficulty;
  first_message: string;
  tips: string[];
  scenario: Scenario;
  provider: string;
}

export interface TrainingReply {
  session_id: string;
  turn_index: number;
  prospect_response: string;
  score: number | null;
  criteria: Record<string, number>;
  feedback: string;
  suggestions: string[];
  champion_way: string | null;
  provider: string;
}

export interface Turn {
  index: number;
  role: "ai" | "trainee";
  text: string;
  latency_ms: number | null;
  score: number | null;
  criteria: Record<string, number> | null;
  feedback: string | null;
  suggestion: string | null;
  champion_way: string | null;
}

export interface SessionSummary {
  id: string;
  champion_id: string;
  scenario_id: string | null;
  mode: Mode;
  difficulty: Difficulty;
  status: string;
  overall_score: number | null;
  started_at: string;
  ended_at: string | null;
}

export interface Evidence {
  turn_index: number;
  quote: string;
  score: number;
  kind: string;
}

export interface RubricLine {
  weight: number;
  description: string;
  score: number | null;
  turns_scored: number;
  evidence: Evidence[];
}

export interface ChampionWay {
  turn_index: number;
  trainee_said: string;
  score: number;
  champion_way: string;
  source?: { category?: string; start?: number; end?: number; why?: string };
}

export interface Scorecard {
  overall: number;
  passed: boolean;
  pass_threshold: number;
  rubric: Record<string, RubricLine>;
  not_practised: string[];
  notes: string[];
  keep: string[];
  start: string[];
  stop: string[];
  metrics: {
    trainee: Record<string, number | string | null>;
    champion: Record<string, number | string | null>;
  };
  champion_ways: ChampionWay[];
  turn_count: number;
  provider: string;
}

export interface SessionDetail extends SessionSummary {
  turns: Turn[];
  scorecard: Scorecard | null;
}

/** A `turn-score` server message during a call (the scorer's TurnScore). */
export interface TurnScoreMessage {
  type: "turn-score";
  turn_index: number;
  score: number;
  criteria: Record<string, number>;
  feedback: string;
  suggestion: string;
  champion_way: string | null;
  provider: string;
}

/** A `turn-latency` server message: how long the last reply took. */
export interface TurnLatencyMessage {
  type: "turn-latency";
  latency_ms: number;
  breakdown: Record<string, number | null>;
}

/** GET /training/rubric: how every trainee turn is scored. */
export interface Rubric {
  criteria: Record<string, { weight: number; description: string }>;
  pass_threshold: number;
}
