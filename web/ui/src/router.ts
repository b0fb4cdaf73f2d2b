// Hash routes (#/champions/ID): the server serves one page and needs no route table.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "champions" }
  | { name: "champion"; id: string }
  | { name: "practice"; championId: string | null; scenarioId: string | null }
  | { name: "call"; id: string; input: "voice" | "text" }
  | { name: "session"; id: string }
  | { name: "history" }
  | { name: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const [path, queryString = ""] = hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(queryString);
  let parts: string[];
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return { name: "not-found", path };
  }
  if (parts.length === 0 || (parts[0] === "champions" && parts.length === 1)) {
    return { name: "champions" };
  }
  if (parts[0] === "champions" && parts.length === 2) return { name: "champion", id: parts[1] };
  if (parts[0] === "practice" && parts.length === 1) {
    return { name: "practice", championId: query.get("champion"), scenarioId: query.get("scenario") };
  }
  if (parts[0] === "sessions" && parts.length === 3 && parts[2] === "call") {
    return { name: "call", id: parts[1], input: query.get("input") === "text" ? "text" : "voice" };
  }
  if (parts[0] === "sessions" && parts.length === 2) return { name: "session", id: parts[1] };
  if (parts[0] === "history" && parts.length === 1) return { name: "history" };
  return { name: "not-found", path };
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
