// Practising a session by phone: a single-use code to key in after calling the practice number.
import { useState } from "preact/hooks";

import { api } from "./api";
import { Alert, messageOf } from "./ui";

interface DialInCode {
  code: string;
  expires_at: string;
  number: string | null;
}

export function DialIn(props: { sessionId: string }) {
  const [code, setCode] = useState<DialInCode | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function ask() {
    setBusy(true);
    setError(null);
    try {
      setCode(await api<DialInCode>(`/training/sessions/${props.sessionId}/dial-in`, { method: "POST" }));
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }
  const until = code ? new Date(code.expires_at).toLocaleTimeString(undefined, { timeStyle: "short" }) : "";
  return (
    <section class="card" aria-labelledby="by-phone">
      <h2 id="by-phone">Practise by phone</h2>
      {code ? (
        <p role="status">
          Call <strong>{code.number ?? "your practice number"}</strong> and key in{" "}
          <strong class="dial-code" aria-hidden="true">
            {code.code}
          </strong>
          <span class="visually-hidden">{code.code.split("").join(" ")}</span>{" "}
          when asked. The code works once, until {until}.
        </p>
      ) : (
        <p class="hint">Get a code, call the practice number and key it in: the call joins this session.</p>
      )}
      <button type="button" onClick={ask} disabled={busy}>
        {code ? "Get a new code" : "Get a dial-in code"}
      </button>
      {error && <Alert>{error}</Alert>}
    </section>
  );
}
