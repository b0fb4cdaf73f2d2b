// The practice screen: a live voice call (or typed turns) with the transcript, who is speaking,
// tips, each turn's score as it arrives and each reply's latency.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { api, serverUp } from "./api";
import { DialIn } from "./dialin";
import { label, score } from "./format";
import { navigate } from "./router";
import { startedFor, takeConnectOnOpen } from "./started";
import type { SessionDetail, TrainingReply, TurnLatencyMessage, TurnScoreMessage } from "./types";
import { Alert, PageTitle, Show, messageOf, useLoad } from "./ui";
import { VoiceCall, microphoneProblem } from "./voice";

/** A final line of the transcript; the words still being recognised are kept apart. */
interface Line {
  id: number;
  who: "you" | "ai";
  text: string;
  /** The stored turn's index, for lines read from the server. */
  turn?: number;
  /** The reply's latency measured at the server. */
  latencyMs?: number;
  /** The reply's latency as this browser heard it. */
  heardMs?: number;
  /** undefined: a trainee line of this call not scored yet; null: not scored. */
  score?: number | null;
}

/** A reply's figures, which may arrive before the reply's first words are on screen. */
type ReplyFigures = Pick<Line, "latencyMs" | "heardMs">;

interface ScoreCard {
  turnIndex: number;
  score: number;
  criteria: Record<string, number>;
  feedback: string;
  suggestion: string;
  championWay: string | null;
}

let nextId = 1;

function linesFrom(detail: SessionDetail): Line[] {
  return detail.turns.map((t) => ({
    id: nextId++,
    who: t.role === "trainee" ? "you" : "ai",
    text: t.text,
    turn: t.index,
    latencyMs: t.latency_ms ?? undefined,
    score: t.score,
  }));
}

function scoresFrom(detail: SessionDetail): ScoreCard[] {
  return detail.turns
    .filter((t) => t.role === "trainee" && t.score !== null)
    .map((t) => ({
      turnIndex: t.index,
      score: t.score ?? 0,
      criteria: t.criteria ?? {},
      feedback: t.feedback ?? "",
      suggestion: t.suggestion ?? "",
      championWay: t.champion_way,
    }));
}

const normalise = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();

/** A trainee line of this call that further final words of the same turn extend. */
const isOpen = (line: Line | undefined) => line?.who === "you" && line.score === undefined;

/** The trainee line a turn's score belongs on: the stored turn's, else the latest unscored
 * line of this call, preferring one already answered (later words are the next turn). */
function scoredLine(lines: Line[], turnIndex: number): number {
  const stored = lines.findIndex((l) => l.who === "you" && l.turn === turnIndex);
  if (stored >= 0) return stored;
  const lastReply = findLastIndex(lines, (l) => l.who === "ai");
  const answered = findLastIndex(lines, (l, i) => i < lastReply && isOpen(l));
  return answered >= 0 ? answered : findLastIndex(lines, isOpen);
}

/** Lines this close to the bottom of the transcript count as being at its end. */
const AT_END_PX = 32;

type CallState =
  | { phase: "idle" }
  | { phase: "checking" }
  | { phase: "connecting" }
  | { phase: "live" }
  | { phase: "no-mic"; message: string }
  | { phase: "failed"; message: string }
  | { phase: "lost"; message: string; serverBack: boolean };

function Conversation(props: { detail: SessionDetail; input: "voice" | "text" }) {
  const { detail } = props;
  const started = startedFor(detail.id);
  const aiName = detail.mode === "demo" ? "Champion" : (started?.scenario.persona.name ?? "Prospect");
  const [lines, setLines] = useState<Line[]>(() => linesFrom(detail));
  const [interim, setInterim] = useState("");
  const [scores, setScores] = useState<ScoreCard[]>(() => scoresFrom(detail));
  const [state, setState] = useState<CallState>({ phase: "idle" });
  const [speaking, setSpeaking] = useState<{ you: boolean; ai: boolean }>({ you: false, ai: false });
  const [muted, setMuted] = useState(false);
  const [ending, setEnding] = useState(false);
  const [announced, setAnnounced] = useState("");
  const [endError, setEndError] = useState<string | null>(null);
  const call = useRef<VoiceCall | null>(null);
  const opening = useRef<string | null>(null);
  const ended = detail.status !== "active";
  // The reply to the trainee's latest turn: awaited from the turn's end until its first words
  // are on screen, then the line that its latency figures go on.
  const awaitingReply = useRef(false);
  const replyLine = useRef<number | null>(null);
  const pendingFigures = useRef<ReplyFigures>({});

  // Opened from "Start practice" by voice: connect at once, no second click.
  useEffect(() => {
    if (props.input === "voice" && !ended && takeConnectOnOpen(detail.id)) void connect();
  }, []);

  // New lines scroll into view, unless the trainee has scrolled up to read.
  const chat = useRef<HTMLOListElement>(null);
  const following = useRef(true);
  function onChatScroll() {
    const box = chat.current;
    if (box) following.current = box.scrollHeight - box.scrollTop - box.clientHeight <= AT_END_PX;
  }
  useLayoutEffect(() => {
    const box = chat.current;
    if (box && following.current) box.scrollTop = box.scrollHeight;
  }, [lines, interim]);

  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
      void call.current?.hangUp();
    },
    [],
  );

  // While the connection is lost, watch for the server to come back.
  useEffect(() => {
    if (state.phase !== "lost" || state.serverBack) return;
    const timer = window.setInterval(async () => {
      if (await serverUp()) setState((s) => (s.phase === "lost" ? { ...s, serverBack: true } : s));
    }, 1500);
    return () => window.clearInterval(timer);
  }, [state]);

  function addYou(text: string, final: boolean) {
    if (!final) {
      setInterim(text);
      return;
    }
    setInterim(""); // the final words replace what was being recognised
    if (!text) return;
    setAnnounced(`You: ${text}`);
    const id = nextId++;
    setLines((current) => {
      const last = current[current.length - 1];
      if (isOpen(last)) return [...current.slice(0, -1), { ...last, text: `${last.text} ${text}`.trim() }];
      return [...current, { id, who: "you", text }];
    });
  }

  function userSpeaking(on: boolean) {
    setSpeaking((s) => ({ ...s, you: on }));
    if (on) return;
    // The server ended the trainee's turn: the next reply is the answer to it.
    awaitingReply.current = true;
    replyLine.current = null;
    pendingFigures.current = {};
  }

  /** A figure of the reply to the latest turn: on its line, or kept until that line shows. */
  function replyFigure(figures: ReplyFigures) {
    const id = replyLine.current;
    if (id !== null) {
      setLines((current) => current.map((l) => (l.id === id ? { ...l, ...figures } : l)));
    } else if (awaitingReply.current) {
      pendingFigures.current = { ...pendingFigures.current, ...figures };
    }
    // Otherwise no turn of this call is waiting for a reply: a figure would be a guess.
  }

  function addAi(text: string) {
    // A new connection speaks the opening line again: it is already on screen.
    if (opening.current !== null) {
      const said = normalise(text);
      if (said && normalise(opening.current).includes(said)) return;
      opening.current = null;
    }
    setAnnounced(`${aiName}: ${text}`);
    const id = nextId++;
    if (awaitingReply.current) {
      // The first words of the reply to the trainee's turn start its line.
      const figures = pendingFigures.current;
      awaitingReply.current = false;
      replyLine.current = id;
      pendingFigures.current = {};
      setLines((current) => [...current, { id, who: "ai", text, ...figures }]);
      return;
    }
    setLines((current) => {
      const last = current[current.length - 1];
      if (last?.who === "ai" && speakingRef.current.ai) {
        return [...current.slice(0, -1), { ...last, text: `${last.text} ${text}`.trim() }];
      }
      return [...current, { id, who: "ai", text }];
    });
  }

  const speakingRef = useRef(speaking);
  speakingRef.current = speaking;

  function onServerMessage(data: unknown) {
    const message = data as { type?: string };
    if (message.type === "turn-score") {
      const s = message as TurnScoreMessage;
      setScores((current) => [
        ...current.filter((c) => c.turnIndex !== s.turn_index),
        { turnIndex: s.turn_index, score: s.score, criteria: s.criteria, feedback: s.feedback, suggestion: s.suggestion, championWay: s.champion_way },
      ]);
      setLines((current) => {
        const index = scoredLine(current, s.turn_index);
        if (index < 0) return current;
        const copy = [...current];
        copy[index] = { ...copy[index], score: s.score };
        return copy;
      });
    } else if (message.type === "turn-latency") {
      replyFigure({ latencyMs: (message as TurnLatencyMessage).latency_ms });
    }
  }

  async function connect() {
    setState({ phase: "checking" });
    const problem = await microphoneProblem();
    if (!mounted.current) return; // the trainee left the page meanwhile
    if (problem) {
      setState({ phase: "no-mic", message: problem });
      return;
    }
    setState({ phase: "connecting" });
    opening.current = lines.find((l) => l.who === "ai")?.text ?? null;
    awaitingReply.current = false;
    replyLine.current = null;
    pendingFigures.current = {};
    const voice = new VoiceCall(detail.id, {
      onLive: () => setState({ phase: "live" }),
      onLost: (reason) => {
        call.current = null;
        setSpeaking({ you: false, ai: false });
        setInterim("");
        setState({ phase: "lost", message: reason, serverBack: false });
      },
      onUserSpeaking: userSpeaking,
      onBotSpeaking: (on) => setSpeaking((s) => ({ ...s, ai: on })),
      onUserTranscript: addYou,
      onBotText: addAi,
      onServerMessage,
      onReplyHeard: (ms) => replyFigure({ heardMs: ms }),
    });
    call.current = voice;
    try {
      await voice.connect();
      if (!mounted.current) {
        await voice.hangUp();
        return;
      }
      setState((s) => (s.phase === "connecting" ? { phase: "live" } : s));
    } catch (error) {
      call.current = null;
      await voice.hangUp();
      setState({ phase: "failed", message: `Could not start the call: ${messageOf(error)}` });
    }
  }

  function toggleMute() {
    call.current?.mute(!muted);
    setMuted(!muted);
  }

  async function end() {
    setEnding(true);
    setEndError(null);
    await call.current?.hangUp();
    call.current = null;
    try {
      if (!ended) await api("/training/end", { body: { session_id: detail.id } });
      navigate(`/sessions/${detail.id}`);
    } catch (error) {
      setEndError(`Could not end the session: ${messageOf(error)}`);
      setEnding(false);
    }
  }

  async function sendText(message: string): Promise<string | null> {
    addYou(message, true);
    try {
      const reply = await api<TrainingReply>("/training/respond", { body: { session_id: detail.id, message } });
      setLines((current) => {
        const copy = [...current];
        const index = findLastIndex(copy, (l) => l.who === "you");
        if (index >= 0) copy[index] = { ...copy[index], score: reply.score };
        return [...copy, { id: nextId++, who: "ai", text: reply.prospect_response }];
      });
      if (reply.score !== null) {
        setScores((current) => [
          ...current,
          {
            turnIndex: reply.turn_index,
            score: reply.score ?? 0,
            criteria: reply.criteria,
            feedback: reply.feedback,
            suggestion: reply.suggestions[0] ?? "",
            championWay: reply.champion_way,
          },
        ]);
      }
      return null;
    } catch (error) {
      setLines((current) => current.slice(0, -1));
      return messageOf(error);
    }
  }

  const live = state.phase === "live";
  const who = speaking.you ? "You are speaking" : speaking.ai ? `${aiName} is speaking` : live ? "Listening…" : "Not connected";
  const latest = scores[scores.length - 1];
  // Words being recognised show in the trainee's open line, or in a bubble of their own.
  const interimInLast = interim !== "" && isOpen(lines[lines.length - 1]);
  return (
    <div class="call">
      <div class="call-main">
        {props.input === "voice" && !ended && (
          <section class="card controls" aria-label="Call controls">
            <p class={`speaking ${speaking.you ? "speaking-you" : speaking.ai ? "speaking-ai" : ""}`} role="status" aria-live="polite">
              <span class="dot" aria-hidden="true" /> {who}
            </p>
            {state.phase === "checking" && <p role="status">Checking your microphone…</p>}
            {state.phase === "connecting" && <p role="status">Connecting…</p>}
            {state.phase === "no-mic" && (
              <Alert>
                <p>{state.message}</p>
                <div class="actions">
                  <button type="button" onClick={connect}>
                    Try again
                  </button>
                  <a class="button" href={`#/sessions/${detail.id}/call?input=text`}>
                    Practise by text instead
                  </a>
                </div>
              </Alert>
            )}
            {state.phase === "failed" && <Alert>{state.message}</Alert>}
            {state.phase === "lost" && (
              <Alert>
                <p>{state.message} Your conversation so far is saved.</p>
                <p role="status">{state.serverBack ? "The server is back." : "Waiting for the server to come back…"}</p>
                <button type="button" onClick={connect} disabled={!state.serverBack}>
                  Reconnect
                </button>
              </Alert>
            )}
            <div class="actions">
              {(state.phase === "idle" || state.phase === "failed") && (
                <button type="button" class="primary" onClick={connect}>
                  {state.phase === "idle" ? "Connect" : "Connect again"}
                </button>
              )}
              {live && (
                <button type="button" aria-pressed={muted} onClick={toggleMute}>
                  {muted ? "Unmute" : "Mute"}
                </button>
              )}
              {live && (
                <button type="button" class="danger" onClick={end} disabled={ending}>
                  Hang up
                </button>
              )}
            </div>
          </section>
        )}
        <section aria-labelledby="live-transcript">
          <h2 id="live-transcript">Transcript</h2>
          <p class="visually-hidden" aria-live="polite">
            {announced}
          </p>
          <ol class="chat" ref={chat} onScroll={onChatScroll} tabIndex={0}>
            {lines.map((line, i) => (
              <li key={line.id} class={`bubble bubble-${line.who}`}>
                <span class="who">{line.who === "you" ? "You" : aiName}</span>
                <span class="said">
                  {line.text}
                  {interimInLast && i === lines.length - 1 && <span class="interim"> {interim}</span>}
                </span>
                {line.who === "you" && typeof line.score === "number" && <span class="badge">Score {score(line.score)}</span>}
                {line.who === "ai" && line.heardMs !== undefined && (
                  <span class="latency" title="From the end of your speech to the reply's first sound, as this browser heard it">
                    replied in {Math.round(line.heardMs)} ms
                  </span>
                )}
                {line.who === "ai" && line.heardMs === undefined && line.latencyMs !== undefined && (
                  <span class="latency" title="Measured at the server, from the end of your speech to the reply's first audio">
                    replied in {Math.round(line.latencyMs)} ms (server)
                  </span>
                )}
              </li>
            ))}
            {interim !== "" && !interimInLast && (
              <li key="interim" class="bubble bubble-you">
                <span class="who">You</span>
                <span class="said">
                  <span class="interim">{interim}</span>
                </span>
              </li>
            )}
          </ol>
        </section>
        {props.input === "text" && !ended && <TextInput send={sendText} />}
        <div class="actions">
          {!ended && (
            <button type="button" onClick={end} disabled={ending}>
              {ending ? "Ending…" : "End and see scorecard"}
            </button>
          )}
          {ended && (
            <a class="button primary" href={`#/sessions/${detail.id}`}>
              See the scorecard
            </a>
          )}
          {props.input === "voice" && !ended && !live && (
            <a href={`#/sessions/${detail.id}/call?input=text`}>Switch to text</a>
          )}
        </div>
        {endError && <Alert>{endError}</Alert>}
      </div>
      <aside class="call-side" aria-label="Coaching">
        {!ended && !live && <DialIn sessionId={detail.id} />}
        <section class="card">
          <h2>Tips</h2>
          {latest ? (
            <ul>
              <li>{latest.feedback}</li>
              {latest.suggestion && <li>{latest.suggestion}</li>}
            </ul>
          ) : started?.tips.length ? (
            <ul>
              {started.tips.map((tip) => (
                <li key={tip}>{tip}</li>
              ))}
            </ul>
          ) : (
            <p class="muted">Tips appear after your first turn.</p>
          )}
        </section>
        <section class="card" aria-labelledby="turn-scores">
          <h2 id="turn-scores">Turn scores</h2>
          {scores.length === 0 && <p class="muted">{detail.mode === "demo" ? "Demo mode is not scored." : "Each of your turns is scored as you go."}</p>}
          <ol class="scores" aria-live="polite">
            {scores.map((s) => (
              <li key={s.turnIndex}>
                <p>
                  <strong>Turn {s.turnIndex}:</strong> <span class="big-score">{score(s.score)}</span>
                  <span class="muted">
                    {" "}
                    {Object.entries(s.criteria)
                      .map(([k, v]) => `${label(k)} ${score(v)}`)
                      .join(" · ")}
                  </span>
                </p>
                {s.championWay && (
                  <p class="hint">
                    Champion's way: <q>{s.championWay}</q>
                  </p>
                )}
              </li>
            ))}
          </ol>
        </section>
      </aside>
    </div>
  );
}

function TextInput(props: { send: (message: string) => Promise<string | null> }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: Event) {
    event.preventDefault();
    const message = text.trim();
    if (!message) return;
    setBusy(true);
    setError(null);
    setText("");
    const problem = await props.send(message);
    if (problem) {
      setError(problem);
      setText(message);
    }
    setBusy(false);
  }
  return (
    <form class="text-turn" onSubmit={submit}>
      <label for="your-turn">Your turn</label>
      <textarea id="your-turn" rows={3} maxLength={2000} value={text} onInput={(e) => setText(e.currentTarget.value)} disabled={busy}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) submit(e);
        }} />
      <button type="submit" class="primary" disabled={busy || !text.trim()}>
        {busy ? "Sending…" : "Send"}
      </button>
      {error && <Alert>{error}</Alert>}
    </form>
  );
}

function findLastIndex<T>(items: T[], test: (item: T, index: number) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i], i)) return i;
  return -1;
}

export function CallScreen(props: { id: string; input: "voice" | "text" }) {
  const [detail, reload] = useLoad(() => api<SessionDetail>(`/training/sessions/${props.id}`), props.id);
  return (
    <Show value={detail} what="the session" retry={reload}>
      {(d) => (
        <section>
          <PageTitle>{props.input === "voice" ? "Practice call" : "Practice by text"}</PageTitle>
          <p class="muted">
            {label(d.mode)} · {label(d.difficulty)}
            {d.status !== "active" && " · this session has ended"}
          </p>
          <Conversation key={props.input} detail={d} input={props.input} />
        </section>
      )}
    </Show>
  );
}
