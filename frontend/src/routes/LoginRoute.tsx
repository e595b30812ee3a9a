import { useState, type FormEvent } from "react";
import { useAuth } from "../lib/auth";
import { ErrorMessage } from "../components/ui/Feedback";

/** Sign in, or create an account (the first account becomes the admin). */
export function LoginRoute() {
  const { login, register } = useAuth();
  const [mode, setMode] = useState<"login" | "register">("login");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const field = (name: string) => String(form.get(name) ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      if (mode === "login") {
        await login(field("username"), String(form.get("password") ?? ""));
      } else {
        const fullName = field("full_name");
        await register({
          email: field("email"),
          username: field("username"),
          password: String(form.get("password") ?? ""),
          ...(fullName ? { full_name: fullName } : {}),
        });
      }
    } catch (reason) {
      setError(reason);
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={(event) => void submit(event)} aria-label={mode === "login" ? "Sign in" : "Create account"}>
        <h1>Switchboard</h1>
        <h2>{mode === "login" ? "Sign in" : "Create an account"}</h2>
        {mode === "register" ? (
          <div className="field">
            <label htmlFor="email">Email</label>
            <input id="email" name="email" type="email" autoComplete="email" required />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="username">{mode === "login" ? "Username or email" : "Username"}</label>
          <input id="username" name="username" autoComplete="username" required minLength={mode === "register" ? 3 : 1} />
        </div>
        {mode === "register" ? (
          <div className="field">
            <label htmlFor="full_name">Full name (optional)</label>
            <input id="full_name" name="full_name" autoComplete="name" />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            required
            minLength={mode === "register" ? 8 : 1}
          />
        </div>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {mode === "login" ? "Sign in" : "Create account"}
        </button>
        <p className="muted small">
          {mode === "login" ? "No account yet? " : "Already registered? "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setMode(mode === "login" ? "register" : "login");
              setError(null);
            }}
          >
            {mode === "login" ? "Create one" : "Sign in"}
          </button>
        </p>
      </form>
    </main>
  );
}
