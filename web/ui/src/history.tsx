// Past sessions, and scores over time per champion and scenario.
import { api } from "./api";
import { ScoreLine } from "./charts";
import { dateTime, label, score } from "./format";
import type { ChampionSummary, Rubric, Scenario, SessionSummary } from "./types";
import { PageTitle, Show, Wide, useLoad } from "./ui";

interface HistoryData {
  sessions: SessionSummary[];
  champions: Map<string, string>;
  scenarios: Map<string, string>;
  passMark: number;
}

async function loadHistory(): Promise<HistoryData> {
  const [sessions, champions, rubric] = await Promise.all([
    api<SessionSummary[]>("/training/sessions"),
    api<ChampionSummary[]>("/champions"),
    api<Rubric>("/training/rubric"),
  ]);
  const used = [...new Set(sessions.map((s) => s.champion_id))].filter((id) => champions.some((c) => c.id === id));
  const lists = await Promise.all(used.map((id) => api<Scenario[]>(`/scenarios/${id}`).catch(() => [] as Scenario[])));
  return {
    sessions,
    champions: new Map(champions.map((c) => [c.id, c.name])),
    scenarios: new Map(lists.flat().map((s) => [s.id, s.title])),
    passMark: rubric.pass_threshold,
  };
}

function Trends(props: { data: HistoryData }) {
  const scored = props.data.sessions.filter((s) => s.overall_score !== null && s.mode === "roleplay").reverse();
  const groups = new Map<string, SessionSummary[]>();
  for (const s of scored) {
    const key = `${s.champion_id}|${s.scenario_id ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  if (!groups.size) return <p class="muted">Finish a roleplay session to see your scores over time.</p>;
  return (
    <div class="trends">
      {[...groups.entries()].map(([key, list]) => {
        const [championId, scenarioId] = key.split("|");
        const title = `${props.data.champions.get(championId) ?? "Deleted champion"} — ${props.data.scenarios.get(scenarioId) ?? "scenario"}`;
        return (
          <section key={key} class="card">
            <h3>{title}</h3>
            <ScoreLine title={`Scores for ${title}`} passMark={props.data.passMark} points={list.map((s) => ({ label: dateTime(s.started_at), value: s.overall_score ?? 0 }))} />
          </section>
        );
      })}
    </div>
  );
}

export function HistoryPage() {
  const [data, reload] = useLoad(loadHistory, "history");
  return (
    <section>
      <PageTitle>History</PageTitle>
      <Show value={data} what="your sessions" retry={reload}>
        {(d) => (
          <>
            <h2>Scores over time</h2>
            <Trends data={d} />
            <h2>Sessions</h2>
            {d.sessions.length === 0 ? (
              <p class="muted">
                No sessions yet. <a href="#/practice">Start practising</a>.
              </p>
            ) : (
              <Wide label="Your sessions">
              <table class="sessions">
                <caption class="visually-hidden">Your sessions, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Champion</th>
                    <th scope="col">Scenario</th>
                    <th scope="col">Mode</th>
                    <th scope="col">Score</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {d.sessions.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <a href={s.status === "active" ? `#/sessions/${s.id}/call` : `#/sessions/${s.id}`}>{dateTime(s.started_at)}</a>
                      </td>
                      <td>{d.champions.get(s.champion_id) ?? "Deleted champion"}</td>
                      <td>{(s.scenario_id && d.scenarios.get(s.scenario_id)) || "—"}</td>
                      <td>
                        {label(s.mode)}, {s.difficulty}
                      </td>
                      <td>{score(s.overall_score)}</td>
                      <td>{s.status === "active" ? "open" : "ended"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              </Wide>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
