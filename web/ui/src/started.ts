// The answer to POST /training/start, kept for the call screen (the first line and the tips),
// and whether that screen should connect the call as it opens.
import type { TrainingStarted } from "./types";

const KEY = "championclone.started.";

export function rememberStart(started: TrainingStarted): void {
  sessionStorage.setItem(KEY + started.session_id, JSON.stringify(started));
}

export function startedFor(sessionId: string): TrainingStarted | null {
  const raw = sessionStorage.getItem(KEY + sessionId);
  return raw ? (JSON.parse(raw) as TrainingStarted) : null;
}

const CONNECT_KEY = "championclone.connect.";

/** The call screen of this session connects as soon as it opens (once). */
export function connectOnOpen(sessionId: string): void {
  sessionStorage.setItem(CONNECT_KEY + sessionId, "1");
}

/** Whether the call should connect now; true once per `connectOnOpen`. */
export function takeConnectOnOpen(sessionId: string): boolean {
  const asked = sessionStorage.getItem(CONNECT_KEY + sessionId) !== null;
  sessionStorage.removeItem(CONNECT_KEY + sessionId);
  return asked;
}
