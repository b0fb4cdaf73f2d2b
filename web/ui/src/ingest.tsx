// A champion's ingest job, step by step, live from the server-sent event stream.
import { useEffect, useState } from "preact/hooks";

import { readEvents } from "./api";
import { Alert, messageOf } from "./ui";

export const STEPS: [string, string][] = [
  ["verify", "Check the file"],
  ["extract", "Extract the audio"],
  ["transcribe", "Transcribe"],
  ["analyse", "Find the patterns"],
  ["scenarios", "Build scenarios"],
  ["voice", "Clone the voice"],
];

export interface Progress {
  status: "queued" | "running" | "completed" | "failed";
  step: string | null;
  progress: number;
  error: string | null;
}

/** Follows a champion's ingest until it completes or fails; reconnects when the stream drops. */
export function useIngestProgress(championId: string, active: boolean): [Progress | null, string | null] {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (!active) return;
    const abort = new AbortController();
    let finished = false;
    (async () => {
      while (!abort.signal.aborted && !finished) {
        try {
          await readEvents(
            `/champions/${championId}/events`,
            (_name, data) => {
              const event = data as Partial<Progress>;
              setProblem(null);
              setProgress((previous) => ({
                status: event.status ?? previous?.status ?? "queued",
                step: event.step !== undefined ? event.step : (previous?.step ?? null),
                progress: event.progress ?? previous?.progress ?? 0,
                error: event.error ?? null,
              }));
              if (event.status === "completed" || event.status === "failed") finished = true;
            },
            abort.signal,
          );
          if (!finished) finished = true; // the stream ends only when the job has ended
        } catch (error) {
          setProblem(`Lost the progress stream (${messageOf(error)}); reconnecting…`);
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      }
    })();
    return () => abort.abort();
  }, [championId, active]);
  return [progress, problem];
}

export function IngestProgress(props: { progress: Progress | null; problem: string | null }) {
  const { progress, problem } = props;
  const percent = Math.round(progress?.progress ?? 0);
  const current = progress?.step ?? null;
  const currentIndex = STEPS.findIndex(([key]) => key === current);
  const done = progress?.status === "completed";
  return (
    <div class="ingest">
      <label for="ingest-progress">
        {done ? "Analysis complete" : progress?.status === "failed" ? "Analysis failed" : `Analysing: ${percent}%`}
      </label>
      <progress id="ingest-progress" max={100} value={done ? 100 : percent} aria-valuetext={`${percent}%`} />
      <ol class="steps">
        {STEPS.map(([key, text], index) => {
          const state = done || (currentIndex >= 0 && index < currentIndex) ? "done" : index === currentIndex ? "current" : "todo";
          return (
            <li key={key} class={`step step-${state}`} aria-current={state === "current" ? "step" : undefined}>
              <span class="step-mark" aria-hidden="true">
                {state === "done" ? "✓" : state === "current" ? "●" : "○"}
              </span>{" "}
              {text}
              <span class="visually-hidden">{state === "done" ? " (done)" : state === "current" ? " (in progress)" : ""}</span>
            </li>
          );
        })}
      </ol>
      {progress?.status === "failed" && <Alert>The analysis failed: {progress.error ?? "no reason was given"}</Alert>}
      {problem && <Alert kind="info">{problem}</Alert>}
    </div>
  );
}
