// Sign in and create an account.
import { useState } from "preact/hooks";

import { api, session } from "./api";
import { Alert, PageTitle, messageOf } from "./ui";

interface Token {
  access_token: string;
}

export function AuthScreen(props: { notice: string | null }) {
  const [mode, setMode] = useState<"sign-in" | "sign-up">("sign-in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signingUp = mode === "sign-up";

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signingUp) await api("/auth/register", { body: { email, password } });
      const token = await api<Token>("/auth/login", { body: { email, password } });
      session.signIn(token.access_token, email);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="auth card" aria-labelledby="auth-title">
      <PageTitle>{signingUp ? "Create your account" : "Sign in"}</PageTitle>
      <p class="muted">Practise selling against a clone of your best seller.</p>
      {props.notice && <Alert kind="info">{props.notice}</Alert>}
      <form onSubmit={submit}>
        <label for="email">Email</label>
        <input
          id="email"
          type="email"
          autocomplete="email"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autocomplete={signingUp ? "new-password" : "current-password"}
          required
          minLength={signingUp ? 8 : undefined}
          aria-describedby={signingUp ? "password-help" : undefined}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {signingUp && (
          <p id="password-help" class="hint">
            At least 8 characters.
          </p>
        )}
        {error && <Alert>{error}</Alert>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Please wait…" : signingUp ? "Create account" : "Sign in"}
        </button>
      </form>
      <p>
        {signingUp ? "Already have an account? " : "New here? "}
        <button
          type="button"
          class="link"
          onClick={() => {
            setMode(signingUp ? "sign-in" : "sign-up");
            setError(null);
          }}
        >
          {signingUp ? "Sign in instead" : "Create an account"}
        </button>
      </p>
    </section>
  );
}
