// After the call: the overall and per-criterion scores with the quotes that earned them, the
// champion's way beside the trainee's words, keep/start/stop, metrics side by side, the recording.
import { useEffect, useState } from "preact/hooks";

import { ApiError, api, mediaUrl } from "./api";
import { dateTime, label, score } from "./format";
import type { Scorecard, SessionDetail } from "./types";
import { Alert, PageTitle, ProviderBadge, Show, Wide, messageOf, useLoad } from "./ui";

function Bar(props: { value: number | null; max?: number; name: string }) {
  const max = props.max ?? 100;
  const width = props.value === null ? 0 : Math.max(0, Math.min(1, props.value / max)) * 100;
  return (
    <span class="bar" role="img" aria-label={`${props.name}: ${props.value === null ? "not scored" : score(props.value)} of ${max}`}>
      <span class="bar-fill" style={{ width: `${width}%` }} />
    </span>
  );
}

function Rubric(props: { card: Scorecard }) {
  return (
    <Wide label="Score per criterion">
    <table class="rubric">
      <caption>Score per criterion (weight in brackets)</caption>
      <thead>
        <tr>
          <th scope="col">Criterion</th>
          <th scope="col">Score</th>
          <th scope="col">What earned it</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(props.card.rubric).map(([key, line]) => (
          <tr key={key}>
            <th scope="row">
              {label(key)} <span class="muted">({Math.round(line.weight * 100)}%)</span>
              <div class="hint">{line.description}</div>
            </th>
            <td>
              <span class="big-score">{line.score === null ? "—" : score(line.score)}</span>
              <Bar value={line.score} name={label(key)} />
            </td>
            <td>
              {line.evidence.length === 0 && <span class="muted">Not practised in this session.</span>}
              {line.evidence.map((e) => (
                <blockquote key={`${e.turn_index}-${e.kind}`}>
                  “{e.quote}” <span class="muted">— turn {e.turn_index}, {score(e.score)}</span>
                </blockquote>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </Wide>
  );
}

const COMPARED: [string, string, (v: number) => string][] = [
  ["talk_ratio", "Talk ratio", (v) => `${Math.round(v * 100)}%`],
  ["questions_total", "Questions asked", (v) => String(Math.round(v))],
  ["questions_per_minute", "Questions per minute", (v) => v.toFixed(1)],
  ["duration_seconds", "Call length", (v) => `${Math.round(v)} s`],
];

function MetricsSideBySide(props: { card: Scorecard }) {
  const { trainee, champion } = props.card.metrics;
  const rows = COMPARED.filter(([key]) => typeof trainee[key] === "number" || typeof champion[key] === "number");
  const show = (value: unknown, format: (v: number) => string) => (typeof value === "number" ? format(value) : "—");
  return (
    <table class="compare">
      <caption>Your metrics beside the champion's</caption>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">You</th>
          <th scope="col">Champion</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([key, name, format]) => (
          <tr key={key}>
            <th scope="row">{name}</th>
            <td>{show(trainee[key], format)}</td>
            <td>{show(champion[key], format)}</td>
          </tr>
        ))}
        {typeof trainee.longest_monologue_words === "number" && (
          <tr>
            <th scope="row">Longest turn</th>
            <td>{trainee.longest_monologue_words} words</td>
            <td>{typeof champion.longest_monologue_seconds === "number" ? `${champion.longest_monologue_seconds.toFixed(1)} s` : "—"}</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function Recording(props: { sessionId: string }) {
  const [urls, setUrls] = useState<{ trainee: string; ai: string } | null>(null);
  const [state, setState] = useState<"loading" | "none" | "ready" | "error">("loading");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    (async () => {
      try {
        const trainee = await mediaUrl(`/training/sessions/${props.sessionId}/recording/trainee`);
        const ai = await mediaUrl(`/training/sessions/${props.sessionId}/recording/ai`);
        setUrls({ trainee, ai });
        setState("ready");
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 404) setState("none");
        else {
          setError(messageOf(failure));
          setState("error");
        }
      }
    })();
  }, [props.sessionId]);
  if (state === "loading") return <p class="muted" role="status">Loading the recording…</p>;
  if (state === "none") return <p class="muted">This session has no recorded call (it was practised by text).</p>;
  if (state === "error") return <Alert>Could not load the recording: {error}</Alert>;
  return (
    <div class="recording">
      <label>
        Your side <audio controls src={urls!.trainee} aria-label="Your side of the call" />
      </label>
      <label>
        The AI's side <audio controls src={urls!.ai} aria-label="The AI's side of the call" />
      </label>
    </div>
  );
}

function Lines(props: { title: string; items: string[] }) {
  return (
    <section class="card">
      <h3>{props.title}</h3>
      {props.items.length ? (
        <ul>
          {props.items.map((item) => (
            <li key={item}>{item}</li>
          ))}
        </ul>
      ) : (
        <p class="muted">Nothing here this time.</p>
      )}
    </section>
  );
}

function Card(props: { detail: SessionDetail; card: Scorecard }) {
  const { card, detail } = props;
  return (
    <>
      <section class={`overall card ${card.passed ? "passed" : "not-passed"}`} aria-labelledby="overall-title">
        <h2 id="overall-title">Overall</h2>
        <p class="overall-score">
          <span class="huge">{score(card.overall)}</span> / 100 — {card.passed ? "passed" : "not passed yet"} (pass mark {card.pass_threshold})
          <ProviderBadge provider={card.provider} />
        </p>
        <p class="muted">
          {card.turn_count} scored turn{card.turn_count === 1 ? "" : "s"} · {label(detail.mode)} · {label(detail.difficulty)} · {dateTime(detail.started_at)}
        </p>
        {card.notes.map((note) => (
          <p key={note} class="hint">
            {note}
          </p>
        ))}
      </section>
      <Rubric card={card} />
      <div class="three-columns">
        <Lines title="Keep" items={card.keep} />
        <Lines title="Start" items={card.start} />
        <Lines title="Stop" items={card.stop} />
      </div>
      <section aria-labelledby="ways-title">
        <h2 id="ways-title">The champion's way</h2>
        {card.champion_ways.length === 0 && <p class="muted">No turn to compare.</p>}
        <ul class="ways">
          {card.champion_ways.map((way) => (
            <li key={way.turn_index} class="card way">
              <div>
                <h3>You said (turn {way.turn_index}, {score(way.score)})</h3>
                <blockquote>“{way.trainee_said}”</blockquote>
              </div>
              <div>
                <h3>The champion said</h3>
                <blockquote>“{way.champion_way}”</blockquote>
                {way.source?.why && <p class="hint">{way.source.why}</p>}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <MetricsSideBySide card={card} />
      <section aria-labelledby="recording-title">
        <h2 id="recording-title">Recording</h2>
        <Recording sessionId={detail.id} />
      </section>
    </>
  );
}

export function ScorecardPage(props: { id: string }) {
  const [detail, reload] = useLoad(() => api<SessionDetail>(`/training/sessions/${props.id}`), props.id);
  return (
    <Show value={detail} what="the session" retry={reload}>
      {(d) => (
        <article>
          <PageTitle>Scorecard</PageTitle>
          {d.scorecard ? (
            <Card detail={d} card={d.scorecard} />
          ) : d.status === "active" ? (
            <p>
              This session is still open. <a href={`#/sessions/${d.id}/call`}>Go back to the call</a> and end it to get the scorecard.
            </p>
          ) : (
            <p class="muted">This session has no scorecard.</p>
          )}
          <h2>Conversation</h2>
          <ol class="chat">
            {d.turns.map((t) => (
              <li key={t.index} class={`bubble bubble-${t.role === "trainee" ? "you" : "ai"}`}>
                <span class="who">{t.role === "trainee" ? "You" : "AI"}</span>
                <span class="said">{t.text}</span>
                {t.score !== null && <span class="badge">Score {score(t.score)}</span>}
                {t.latency_ms !== null && <span class="latency">replied in {Math.round(t.latency_ms)} ms</span>}
              </li>
            ))}
          </ol>
        </article>
      )}
    </Show>
  );
}
