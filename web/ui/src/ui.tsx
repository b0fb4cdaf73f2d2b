// Small shared pieces: loading data, messages, page headings that take focus.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { ApiError } from "./api";

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; message: string; status: number }
  | { state: "ready"; data: T };

/** Loads data when `key` changes; `reload` fetches again. */
export function useLoad<T>(load: () => Promise<T>, key: string): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: "loading" });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setValue({ state: "loading" });
    load().then(
      (data) => live && setValue({ state: "ready", data }),
      (error: unknown) => live && setValue(failed(error)),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  return [value, useCallback(() => setRound((n) => n + 1), [])];
}

export function failed(error: unknown): { state: "error"; message: string; status: number } {
  if (error instanceof ApiError) return { state: "error", message: error.message, status: error.status };
  return { state: "error", message: error instanceof Error ? error.message : String(error), status: 0 };
}

export function messageOf(error: unknown): string {
  return failed(error).message;
}

export function Alert(props: { children: ComponentChildren; kind?: "error" | "info" | "success" }) {
  const kind = props.kind ?? "error";
  return (
    <div class={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

export function Loading(props: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {props.what}…
    </p>
  );
}

/** Shows a loading line, an error with a retry button, or the content. */
export function Show<T>(props: {
  value: Loaded<T>;
  what: string;
  retry?: () => void;
  children: (data: T) => ComponentChildren;
}) {
  const { value } = props;
  if (value.state === "loading") return <Loading what={props.what} />;
  if (value.state === "error") {
    return (
      <Alert>
        <p>
          Could not load {props.what}: {value.message}
        </p>
        {props.retry && value.status !== 404 && (
          <button type="button" onClick={props.retry}>
            Try again
          </button>
        )}
      </Alert>
    );
  }
  return <>{props.children(value.data)}</>;
}

/** The page's main heading; it takes focus when the page opens, for screen readers. */
export function PageTitle(props: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
    document.title = `${ref.current?.textContent ?? ""} · Champion Clone`;
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {props.children}
    </h1>
  );
}

export function ProviderBadge(props: { provider: string | null | undefined }) {
  if (!props.provider) return null;
  const offline = props.provider === "offline";
  return (
    <span class={`badge ${offline ? "badge-offline" : ""}`} title={offline ? "Made by the offline engine" : undefined}>
      {offline ? "offline" : props.provider}
    </span>
  );
}

/** A wide table that scrolls sideways on a narrow screen (and by keyboard) instead of overflowing. */
export function Wide(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="wide" role="region" aria-label={props.label} tabIndex={0}>
      {props.children}
    </div>
  );
}
