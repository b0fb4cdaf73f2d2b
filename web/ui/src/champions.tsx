// Your champions, and uploading a new recording with its progress.
import { useEffect, useRef, useState } from "preact/hooks";

import { ApiError, api, upload } from "./api";
import { bytes, dateTime, duration } from "./format";
import { IngestProgress, useIngestProgress } from "./ingest";
import type { ChampionSummary } from "./types";
import { Alert, PageTitle, Show, messageOf, useLoad } from "./ui";

export const ACCEPTED = [".mp4", ".mov", ".avi", ".wav", ".mp3", ".m4a"];

interface Accepted {
  champion_id: string;
  job_id: string;
}

function StatusBadge(props: { status: string }) {
  const text = props.status === "ready" ? "Ready" : props.status === "failed" ? "Failed" : "Analysing";
  return <span class={`badge status-${props.status}`}>{text}</span>;
}

function ChampionList(props: { champions: ChampionSummary[] }) {
  if (props.champions.length === 0) {
    return <p class="muted">No champions yet. Upload a recording of your best seller's call to begin.</p>;
  }
  return (
    <ul class="cards" aria-label="Your champions">
      {props.champions.map((c) => (
        <li key={c.id} class="card">
          <h3>
            <a href={`#/champions/${c.id}`}>{c.name}</a>
          </h3>
          <p>
            <StatusBadge status={c.status} /> <span class="muted">{duration(c.duration_seconds)} · {dateTime(c.created_at)}</span>
          </p>
          {c.status === "failed" && c.error && <p class="error-text">{c.error}</p>}
          {c.status === "ready" && (
            <a class="button" href={`#/practice?champion=${c.id}`}>
              Practise
            </a>
          )}
        </li>
      ))}
    </ul>
  );
}

type UploadState =
  | { phase: "idle" }
  | { phase: "uploading"; fraction: number; fileName: string }
  | { phase: "analysing"; championId: string }
  | { phase: "error"; message: string };

function UploadForm(props: { onChange: () => void }) {
  const [state, setState] = useState<UploadState>({ phase: "idle" });
  const [name, setName] = useState("");
  const fileInput = useRef<HTMLInputElement>(null);
  const abort = useRef<(() => void) | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const file = fileInput.current?.files?.[0];
    if (!file) {
      setState({ phase: "error", message: "Choose a recording to upload." });
      return;
    }
    const extension = file.name.slice(file.name.lastIndexOf(".")).toLowerCase();
    if (!ACCEPTED.includes(extension)) {
      setState({
        phase: "error",
        message: `“${file.name}” is not a file type we can analyse. Upload a video (.mp4, .mov, .avi) or a call recording (.wav, .mp3, .m4a).`,
      });
      return;
    }
    const form = new FormData();
    form.append("file", file);
    if (name.trim()) form.append("name", name.trim());
    setState({ phase: "uploading", fraction: 0, fileName: file.name });
    const sending = upload<Accepted>("/upload", form, (fraction) =>
      setState({ phase: "uploading", fraction, fileName: file.name }),
    );
    abort.current = sending.abort;
    try {
      const accepted = await sending.done;
      setState({ phase: "analysing", championId: accepted.champion_id });
      setName("");
      if (fileInput.current) fileInput.current.value = "";
      props.onChange();
    } catch (error) {
      const message = messageOf(error);
      const tooLarge = error instanceof ApiError && error.status === 413;
      setState({ phase: "error", message: tooLarge ? `${message} (${bytes(file.size)})` : message });
    } finally {
      abort.current = null;
    }
  }

  const uploading = state.phase === "uploading";
  return (
    <section class="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Add a champion</h2>
      <form onSubmit={submit}>
        <label for="recording">Recording of a sales call</label>
        <input id="recording" ref={fileInput} type="file" accept={ACCEPTED.join(",")} aria-describedby="recording-help" disabled={uploading} />
        <p id="recording-help" class="hint">
          A video (.mp4, .mov, .avi) or a call recording (.wav, .mp3, .m4a), up to 500 MB.
        </p>
        <label for="champion-name">Champion's name (optional)</label>
        <input id="champion-name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} disabled={uploading} />
        <div class="actions">
          <button type="submit" class="primary" disabled={uploading}>
            Upload
          </button>
          {uploading && (
            <button type="button" onClick={() => abort.current?.()}>
              Cancel upload
            </button>
          )}
        </div>
      </form>
      {state.phase === "uploading" && (
        <div>
          <label for="upload-progress">
            Uploading {state.fileName}: {Math.round(state.fraction * 100)}%
          </label>
          <progress id="upload-progress" max={100} value={Math.round(state.fraction * 100)} />
        </div>
      )}
      {state.phase === "analysing" && <Analysing championId={state.championId} onDone={props.onChange} />}
      {state.phase === "error" && <Alert>{state.message}</Alert>}
    </section>
  );
}

function Analysing(props: { championId: string; onDone: () => void }) {
  const [progress, problem] = useIngestProgress(props.championId, true);
  const finished = progress?.status === "completed" || progress?.status === "failed";
  useEffect(() => {
    if (finished) props.onDone();
  }, [finished]);
  return (
    <div>
      <p role="status">Uploaded. Analysing the call…</p>
      <IngestProgress progress={progress} problem={problem} />
      {progress?.status === "completed" && (
        <p>
          <a class="button primary" href={`#/champions/${props.championId}`}>
            Open the champion
          </a>
        </p>
      )}
    </div>
  );
}

export function ChampionsPage() {
  const [round, setRound] = useState(0);
  const [champions, reload] = useLoad(() => api<ChampionSummary[]>("/champions"), String(round));
  return (
    <section>
      <PageTitle>Champions</PageTitle>
      <UploadForm onChange={() => setRound((n) => n + 1)} />
      <h2>Your champions</h2>
      <Show value={champions} what="your champions" retry={reload}>
        {(list) => <ChampionList champions={list} />}
      </Show>
    </section>
  );
}
