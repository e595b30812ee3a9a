import { useEffect, useState, type FormEvent } from "react";
import { useAuth } from "../lib/auth";
import { api } from "../lib/api";
import { ErrorMessage, Spinner } from "../components/ui/Feedback";

type Mode = "login" | "register" | "setup";

/** Sign in, or create an account; on an empty install, create the administrator account first. */
export function LoginRoute() {
  const { login, register } = useAuth();
  const [mode, setMode] = useState<Mode | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api
      .get<{ needs_admin: boolean }>("/auth/setup")
      .then((state) => live && setMode(state.needs_admin ? "setup" : "login"))
      .catch(() => live && setMode("login")); // an older server without the endpoint: the normal sign-in
    return () => {
      live = false;
    };
  }, []);

  if (mode === null) {
    return (
      <main className="auth-page">
        <Spinner label="Loading" />
      </main>
    );
  }
  const creating = mode !== "login";

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const field = (name: string) => String(form.get(name) ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      if (!creating) {
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

  const title = mode === "setup" ? "Create the administrator account" : mode === "login" ? "Sign in" : "Create an account";
  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={(event) => void submit(event)} aria-label={title} data-testid={`auth-${mode}`}>
        <h1>Switchboard</h1>
        <h2>{title}</h2>
        {mode === "setup" ? (
          <div className="setup-note small" data-testid="setup-note">
            <p>This is a new installation. The account you create now is its administrator. It can:</p>
            <ul>
              <li>add shared integrations (Jira, EMRs over FHIR, HL7 endpoints) everyone can use,</li>
              <li>decide which tools ask for approval, run freely or are denied,</li>
              <li>manage people: make admins, disable accounts, create password reset links,</li>
              <li>see the overview, the charts and the audit log.</li>
            </ul>
            <p>Everyone who registers after you gets a regular account.</p>
          </div>
        ) : null}
        {creating ? (
          <div className="field">
            <label htmlFor="email">Email</label>
            <input id="email" name="email" type="email" autoComplete="email" required />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="username">{creating ? "Username" : "Username or email"}</label>
          <input id="username" name="username" autoComplete="username" required minLength={creating ? 3 : 1} />
        </div>
        {creating ? (
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
            autoComplete={creating ? "new-password" : "current-password"}
            required
            minLength={creating ? 8 : 1}
            aria-describedby={creating ? "password-help" : undefined}
          />
          {creating ? (
            <p id="password-help" className="muted small">
              At least 8 characters.
            </p>
          ) : null}
        </div>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {mode === "setup" ? "Create administrator" : creating ? "Create account" : "Sign in"}
        </button>
        {mode !== "setup" ? (
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
        ) : null}
      </form>
    </main>
  );
}
