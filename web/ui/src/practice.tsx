// Choosing what to practise: champion, scenario, mode, difficulty, and voice or text.
import { useEffect, useState } from "preact/hooks";

import { api } from "./api";
import { navigate } from "./router";
import { connectOnOpen, rememberStart } from "./started";
import { label } from "./format";
import type { ChampionSummary, Difficulty, Mode, Rubric, Scenario, TrainingStarted } from "./types";
import { Alert, PageTitle, Show, messageOf, useLoad } from "./ui";

const MODES: [Mode, string, string][] = [
  ["roleplay", "Roleplay", "You sell; the AI plays the prospect the champion faced. Every turn is scored."],
  ["demo", "Demo", "The AI plays the champion; you play the prospect and hear how they sell."],
];
const DIFFICULTIES: Difficulty[] = ["easy", "medium", "hard"];

function Setup(props: { champions: ChampionSummary[]; championId: string | null; scenarioId: string | null }) {
  const ready = props.champions.filter((c) => c.status === "ready");
  const [championId, setChampionId] = useState(
    ready.find((c) => c.id === props.championId)?.id ?? ready[0]?.id ?? "",
  );
  const [scenarioId, setScenarioId] = useState(props.scenarioId ?? "");
  const [mode, setMode] = useState<Mode>("roleplay");
  const [difficulty, setDifficulty] = useState<Difficulty>("medium");
  const [input, setInput] = useState<"voice" | "text">("voice");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scenarios] = useLoad(() => (championId ? api<Scenario[]>(`/scenarios/${championId}`) : Promise.resolve([])), championId);
  const scenarioList = scenarios.state === "ready" ? scenarios.data : [];
  useEffect(() => {
    if (scenarioList.length && !scenarioList.some((s) => s.id === scenarioId)) setScenarioId(scenarioList[0].id);
  }, [scenarioList]);
  const scenario = scenarioList.find((s) => s.id === scenarioId);

  if (!ready.length) {
    return (
      <p>
        You have no champion ready yet. <a href="#/champions">Upload a recording</a> first; practice opens when its analysis is done.
      </p>
    );
  }

  async function start(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const started = await api<TrainingStarted>("/training/start", {
        body: { champion_id: championId, scenario_id: scenarioId || null, mode, difficulty },
      });
      rememberStart(started);
      if (input === "voice") connectOnOpen(started.session_id); // no second click to connect
      navigate(`/sessions/${started.session_id}/call?input=${input}`);
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  }

  return (
    <form class="card setup" onSubmit={start}>
      <label for="practice-champion">Champion</label>
      <select id="practice-champion" value={championId} onChange={(e) => setChampionId(e.currentTarget.value)}>
        {ready.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
      <label for="practice-scenario">Scenario</label>
      <select id="practice-scenario" value={scenarioId} onChange={(e) => setScenarioId(e.currentTarget.value)} disabled={!scenarioList.length}>
        {scenarios.state === "loading" && <option value="">Loading…</option>}
        {scenarioList.map((s) => (
          <option key={s.id} value={s.id}>
            {s.title}
          </option>
        ))}
      </select>
      {scenario && (
        <p class="hint">
          Goal: {scenario.goal}. Prospect: {[scenario.persona.name, scenario.persona.role].filter(Boolean).join(", ")}.
        </p>
      )}
      <fieldset>
        <legend>Mode</legend>
        {MODES.map(([value, title, help]) => (
          <label key={value} class="choice">
            <input type="radio" name="mode" value={value} checked={mode === value} onChange={() => setMode(value)} />
            <span>
              <strong>{title}</strong> <span class="hint">{help}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Difficulty</legend>
        {DIFFICULTIES.map((value) => (
          <label key={value} class="choice">
            <input type="radio" name="difficulty" value={value} checked={difficulty === value} onChange={() => setDifficulty(value)} />
            <span>
              <strong>{value[0].toUpperCase() + value.slice(1)}</strong>{" "}
              <span class="hint">{scenario?.difficulty_levels[value]?.description ?? ""}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>How you will practise</legend>
        <label class="choice">
          <input type="radio" name="input" value="voice" checked={input === "voice"} onChange={() => setInput("voice")} />
          <span>
            <strong>Voice call</strong> <span class="hint">Talk through your microphone.</span>
          </span>
        </label>
        <label class="choice">
          <input type="radio" name="input" value="text" checked={input === "text"} onChange={() => setInput("text")} />
          <span>
            <strong>Text</strong> <span class="hint">Type your turns; no microphone needed.</span>
          </span>
        </label>
      </fieldset>
      {error && <Alert>{error}</Alert>}
      <button type="submit" class="primary" disabled={busy || !championId}>
        {busy ? "Starting…" : "Start practice"}
      </button>
    </form>
  );
}

/** The rubric, open for anyone to read before they practise. */
function HowYouAreScored() {
  const [rubric] = useLoad(() => api<Rubric>("/training/rubric"), "rubric");
  if (rubric.state !== "ready") return null;
  return (
    <details class="card">
      <summary>How you are scored</summary>
      <p class="hint">
        In roleplay, each of your turns is scored 0–100 on these criteria, with the champion's closest real answer as the model.
        The overall score weighs them as shown; {rubric.data.pass_threshold} passes.
      </p>
      <ul>
        {Object.entries(rubric.data.criteria).map(([name, c]) => (
          <li key={name}>
            <strong>{label(name)}</strong> ({Math.round(c.weight * 100)}%): {c.description}
          </li>
        ))}
      </ul>
    </details>
  );
}

export function PracticePage(props: { championId: string | null; scenarioId: string | null }) {
  const [champions, reload] = useLoad(() => api<ChampionSummary[]>("/champions"), "all");
  return (
    <section>
      <PageTitle>Practice</PageTitle>
      <Show value={champions} what="your champions" retry={reload}>
        {(list) => <Setup champions={list} championId={props.championId} scenarioId={props.scenarioId} />}
      </Show>
      <HowYouAreScored />
    </section>
  );
}
