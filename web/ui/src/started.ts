// The answer to POST /training/start, kept for the call screen (the first line and the tips).
import type { TrainingStarted } from "./types";

const KEY = "championclone.started.";

export function rememberStart(started: TrainingStarted): void {
  sessionStorage.setItem(KEY + started.session_id, JSON.stringify(started));
}

export function startedFor(sessionId: string): TrainingStarted | null {
  const raw = sessionStorage.getItem(KEY + sessionId);
  return raw ? (JSON.parse(raw) as TrainingStarted) : null;
}
