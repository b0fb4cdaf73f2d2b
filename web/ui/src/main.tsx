// The Champion Clone browser app: sign in, champions, practice calls, scorecards, history.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { session } from "./api";
import { AuthScreen } from "./auth";
import { CallScreen } from "./call";
import { ChampionPage } from "./champion";
import { ChampionsPage } from "./champions";
import { HistoryPage } from "./history";
import { PracticePage } from "./practice";
import { type Route, useRoute } from "./router";
import { ScorecardPage } from "./scorecard";
import { PageTitle } from "./ui";
import "./styles.css";

function useSignedIn(): [string | null, string | null] {
  const [email, setEmail] = useState(session.token ? session.email : null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    const changed = (event: Event) => {
      setEmail(session.token ? session.email : null);
      setNotice((event as CustomEvent<string | undefined>).detail ?? null);
    };
    window.addEventListener("auth-changed", changed);
    return () => window.removeEventListener("auth-changed", changed);
  }, []);
  return [email, notice];
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.name) {
    case "champions":
      return <ChampionsPage />;
    case "champion":
      return <ChampionPage key={route.id} id={route.id} />;
    case "practice":
      return <PracticePage championId={route.championId} scenarioId={route.scenarioId} />;
    case "call":
      return <CallScreen key={route.id} id={route.id} input={route.input} />;
    case "session":
      return <ScorecardPage key={route.id} id={route.id} />;
    case "history":
      return <HistoryPage />;
    default:
      return (
        <section>
          <PageTitle>Page not found</PageTitle>
          <p>
            There is nothing at this address. <a href="#/champions">Go to your champions</a>.
          </p>
        </section>
      );
  }
}

function NavLink(props: { href: string; active: boolean; children: string }) {
  return (
    <a href={props.href} aria-current={props.active ? "page" : undefined}>
      {props.children}
    </a>
  );
}

function App() {
  const [email, notice] = useSignedIn();
  const route = useRoute();
  const section =
    route.name === "champion" ? "champions" : route.name === "call" ? "practice" : route.name === "session" ? "history" : route.name;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/champions">
          Champion Clone
        </a>
        {email && (
          <nav aria-label="Main">
            <NavLink href="#/champions" active={section === "champions"}>
              Champions
            </NavLink>
            <NavLink href="#/practice" active={section === "practice"}>
              Practice
            </NavLink>
            <NavLink href="#/history" active={section === "history"}>
              History
            </NavLink>
          </nav>
        )}
        {email && (
          <div class="account">
            <span class="muted" title="Signed in">
              {email}
            </span>
            <button type="button" onClick={() => session.signOut("You have signed out.")}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {email ? <Page route={route} /> : <AuthScreen notice={notice} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
