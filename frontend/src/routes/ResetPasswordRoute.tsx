import { useState, type FormEvent } from "react";
import { Link } from "wouter";
import { api } from "../lib/api";
import { ErrorMessage } from "../components/ui/Feedback";
import { NewPasswordFields, readNewPassword } from "../components/account/PasswordFields";

/** The token of a reset link: in the fragment (`#token=…`), so it never reaches a server log. */
export function tokenFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token") ?? "";
}

/** Public page: set a new password with the one-time link an administrator passed on. */
export function ResetPasswordRoute() {
  const [token] = useState(() => tokenFromHash(window.location.hash));
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const next = readNewPassword(new FormData(event.currentTarget));
    setError(null);
    if ("problem" in next) {
      setProblem(next.problem);
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      await api.post("/auth/password-reset", { token, new_password: next.password }, { anonymous: true });
      window.history.replaceState(null, "", window.location.pathname); // the used token leaves the address bar
      setDone(true);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={(event) => void submit(event)} aria-label="Set a new password" data-testid="reset-password">
        <h1>Switchboard</h1>
        <h2>Set a new password</h2>
        {!token ? (
          <p className="error" role="alert">
            This link has no reset token. Ask an administrator for a new link.
          </p>
        ) : done ? (
          <p className="success" role="status" data-testid="password-reset-done">
            Your password is set. Every earlier session was signed out.
          </p>
        ) : (
          <>
            <NewPasswordFields idPrefix="reset" />
            {problem ? (
              <p className="error" role="alert">
                {problem}
              </p>
            ) : null}
            <ErrorMessage error={error} />
            <button type="submit" className="primary" disabled={busy}>
              Set password
            </button>
          </>
        )}
        <p className="muted small">
          <Link href="/" onClick={() => window.location.assign("/")}>
            Go to sign in
          </Link>
        </p>
      </form>
    </main>
  );
}
