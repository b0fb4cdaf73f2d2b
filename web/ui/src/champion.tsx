// A champion: the call's transcript (click a line to hear it), metrics against typical ranges,
// the patterns found with their quotes, and the practice scenarios.
import { useEffect, useRef, useState } from "preact/hooks";

import { api, mediaUrl } from "./api";
import { BENCHMARKS } from "./benchmarks";
import { RangeChart } from "./charts";
import { clock, duration, label } from "./format";
import { IngestProgress, useIngestProgress } from "./ingest";
import type { Champion, Pattern, Scenario, Transcript } from "./types";
import { Alert, PageTitle, ProviderBadge, Show, messageOf, useLoad } from "./ui";

const CATEGORY_ORDER = ["opening", "discovery_question", "objection_handling", "value_statement", "closing"];

/** Loads the call's audio on first use and plays from a moment. */
function useCallAudio(championId: string) {
  const audio = useRef<HTMLAudioElement>(null);
  const [state, setState] = useState<"none" | "loading" | "ready" | "error">("none");
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(0);
  useEffect(() => {
    const element = audio.current;
    if (!element) return;
    const tick = () => setNow(element.currentTime);
    element.addEventListener("timeupdate", tick);
    return () => element.removeEventListener("timeupdate", tick);
  }, []);
  async function playFrom(seconds: number) {
    const element = audio.current;
    if (!element) return;
    if (state !== "ready") {
      setState("loading");
      try {
        element.src = await mediaUrl(`/champions/${championId}/audio`);
        setState("ready");
      } catch (failure) {
        setError(messageOf(failure));
        setState("error");
        return;
      }
    }
    element.currentTime = seconds;
    try {
      await element.play();
    } catch {
      // autoplay refused: the controls are there to press play
    }
  }
  return { audio, state, error, now, playFrom };
}

function speakerName(speaker: string, championSpeaker: string | null, championName: string): string {
  if (speaker === championSpeaker) return `${championName} (champion)`;
  return championSpeaker ? "Prospect" : `Speaker ${speaker}`;
}

function TranscriptView(props: { champion: Champion; transcript: Transcript; player: ReturnType<typeof useCallAudio> }) {
  const { transcript, player, champion } = props;
  return (
    <section aria-labelledby="transcript-title">
      <h2 id="transcript-title">
        Transcript <ProviderBadge provider={transcript.provider} />
      </h2>
      <p class="hint">Select a line to hear that moment of the call.</p>
      <ol class="transcript">
        {transcript.segments.map((segment, index) => {
          const playing = player.state === "ready" && player.now >= segment.start && player.now < segment.end;
          const isChampion = segment.speaker === transcript.champion_speaker;
          return (
            <li key={index} class={`${isChampion ? "line-champion" : "line-other"} ${playing ? "playing" : ""}`}>
              <button type="button" class="segment" onClick={() => player.playFrom(segment.start)} aria-current={playing ? "true" : undefined}>
                <span class="time">{clock(segment.start)}</span>
                <span class="speaker">{speakerName(segment.speaker, transcript.champion_speaker, champion.name)}</span>
                <span class="text">{segment.text}</span>
              </button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Metrics(props: { metrics: Champion["metrics"] }) {
  const metrics = props.metrics ?? {};
  const shown = BENCHMARKS.filter((b) => typeof metrics[b.key] === "number");
  if (!shown.length) return <p class="muted">No metrics yet.</p>;
  return (
    <div class="metrics">
      {shown.map((b) => (
        <RangeChart key={b.key} benchmark={b} value={metrics[b.key] as number} />
      ))}
    </div>
  );
}

function Patterns(props: { patterns: Pattern[]; play: (at: number) => void }) {
  const groups = new Map<string, Pattern[]>();
  for (const pattern of props.patterns) groups.set(pattern.category, [...(groups.get(pattern.category) ?? []), pattern]);
  const categories = [...groups.keys()].sort((a, b) => rank(a) - rank(b));
  if (!categories.length) return <p class="muted">No patterns were found in this call.</p>;
  return (
    <div class="patterns">
      {categories.map((category) => (
        <section key={category} aria-labelledby={`pattern-${category}`}>
          <h3 id={`pattern-${category}`}>{label(category)}</h3>
          <ul>
            {groups.get(category)!.map((p) => (
              <li key={p.id}>
                <blockquote>“{p.quote}”</blockquote>
                <p class="hint">
                  {p.why}{" "}
                  <button type="button" class="link" onClick={() => props.play(p.start)}>
                    Hear it at {clock(p.start)}
                  </button>
                </p>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function rank(category: string): number {
  const index = CATEGORY_ORDER.indexOf(category);
  return index < 0 ? CATEGORY_ORDER.length : index;
}

function Scenarios(props: { scenarios: Scenario[]; championId: string }) {
  if (!props.scenarios.length) return <p class="muted">No scenarios yet.</p>;
  return (
    <ul class="cards">
      {props.scenarios.map((s) => (
        <li key={s.id} class="card">
          <h3>{s.title}</h3>
          <p>
            <strong>Goal:</strong> {s.goal}
          </p>
          <p>
            <strong>Prospect:</strong> {[s.persona.name, s.persona.role, s.persona.company].filter(Boolean).join(", ")}
            {s.persona.personality && <span class="muted"> — {s.persona.personality}</span>}
          </p>
          {s.objections.length > 0 && (
            <>
              <p>
                <strong>Objections, in the order the champion met them:</strong>
              </p>
              <ol>
                {s.objections.map((o) => (
                  <li key={o.order}>
                    {label(o.kind)}: “{o.text}”
                  </li>
                ))}
              </ol>
            </>
          )}
          <a class="button primary" href={`#/practice?champion=${props.championId}&scenario=${s.id}`}>
            Practise this scenario
          </a>
        </li>
      ))}
    </ul>
  );
}

function ReadyChampion(props: { champion: Champion }) {
  const { champion } = props;
  const player = useCallAudio(champion.id);
  const [transcript, reloadTranscript] = useLoad(() => api<Transcript>(`/champions/${champion.id}/transcript`), champion.id);
  const [scenarios, reloadScenarios] = useLoad(() => api<Scenario[]>(`/scenarios/${champion.id}`), champion.id);
  return (
    <>
      <div class="player">
        <audio ref={player.audio} controls aria-label="The champion's call" hidden={player.state !== "ready"} />
        {player.state === "none" && (
          <button type="button" onClick={() => player.playFrom(0)}>
            Play the call
          </button>
        )}
        {player.state === "loading" && <p role="status">Loading the call's audio…</p>}
        {player.state === "error" && <Alert>Could not load the audio: {player.error}</Alert>}
      </div>
      <div class="two-columns">
        <div>
          <Show value={transcript} what="the transcript" retry={reloadTranscript}>
            {(t) => <TranscriptView champion={champion} transcript={t} player={player} />}
          </Show>
        </div>
        <div>
          <section aria-labelledby="metrics-title">
            <h2 id="metrics-title">How {champion.name} sells</h2>
            <Metrics metrics={champion.metrics} />
          </section>
        </div>
      </div>
      <section aria-labelledby="patterns-title">
        <h2 id="patterns-title">Patterns</h2>
        <Patterns patterns={champion.patterns} play={player.playFrom} />
      </section>
      <section aria-labelledby="scenarios-title">
        <h2 id="scenarios-title">Scenarios</h2>
        <Show value={scenarios} what="the scenarios" retry={reloadScenarios}>
          {(list) => <Scenarios scenarios={list} championId={champion.id} />}
        </Show>
      </section>
    </>
  );
}

function NotReady(props: { champion: Champion; onDone: () => void }) {
  const { champion } = props;
  const running = champion.status !== "failed";
  const [progress, problem] = useIngestProgress(champion.id, running);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (progress?.status === "completed" || progress?.status === "failed") props.onDone();
  }, [progress?.status]);
  async function retry() {
    setError(null);
    try {
      await api(`/analyze/${champion.id}`, { method: "POST" });
      props.onDone();
    } catch (failure) {
      setError(messageOf(failure));
    }
  }
  if (!running) {
    return (
      <Alert>
        <p>The analysis of this recording failed: {champion.error ?? champion.latest_job?.error ?? "no reason was given"}</p>
        <button type="button" onClick={retry}>
          Analyse again
        </button>
        {error && <p>{error}</p>}
      </Alert>
    );
  }
  return <IngestProgress progress={progress} problem={problem} />;
}

export function ChampionPage(props: { id: string }) {
  const [round, setRound] = useState(0);
  const [champion, reload] = useLoad(() => api<Champion>(`/champions/${props.id}`), `${props.id}:${round}`);
  return (
    <Show value={champion} what="the champion" retry={reload}>
      {(c) => (
        <article>
          <PageTitle>{c.name}</PageTitle>
          <p class="muted">
            {c.source_filename} · {duration(c.duration_seconds)}{" "}
            <ProviderBadge provider={(c.voice_profile?.champion?.provider as string | undefined) ?? null} />
          </p>
          {c.status === "ready" ? (
            <>
              <p>
                <a class="button primary" href={`#/practice?champion=${c.id}`}>
                  Practise with {c.name}
                </a>
              </p>
              <ReadyChampion champion={c} />
            </>
          ) : (
            <NotReady champion={c} onDone={() => setRound((n) => n + 1)} />
          )}
        </article>
      )}
    </Show>
  );
}
