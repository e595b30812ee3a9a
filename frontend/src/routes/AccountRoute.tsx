import { useState, type FormEvent } from "react";
import { useAuth } from "../lib/auth";
import { api } from "../lib/api";
import { loadTokens } from "../lib/tokens";
import { ErrorMessage } from "../components/ui/Feedback";
import { NewPasswordFields, readNewPassword } from "../components/account/PasswordFields";

/** The signed-in person's account: who they are, and changing the password. */
export function AccountRoute() {
  const { user } = useAuth();
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const next = readNewPassword(form);
    setError(null);
    setDone(false);
    if ("problem" in next) {
      setProblem(next.problem);
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      await api.post("/account/password", {
        current_password: String(form.get("current_password") ?? ""),
        new_password: next.password,
        // This tab stays signed in; every other session is signed out.
        refresh_token: loadTokens()?.refreshToken ?? null,
      });
      formElement.reset();
      setDone(true);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page narrow">
      <header className="page-header">
        <h1>Account</h1>
      </header>
      <section className="card">
        <dl className="facts">
          <div>
            <dt>Username</dt>
            <dd data-testid="account-username">{user?.username}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{user?.email}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{user?.role === "admin" ? "Administrator" : "User"}</dd>
          </div>
        </dl>
      </section>
      <form className="card" onSubmit={(event) => void submit(event)} aria-label="Change password" data-testid="change-password">
        <h2>Change password</h2>
        <div className="field">
          <label htmlFor="current-password">Current password</label>
          <input id="current-password" name="current_password" type="password" autoComplete="current-password" required />
        </div>
        <NewPasswordFields idPrefix="account" />
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : null}
        <ErrorMessage error={error} />
        {done ? (
          <p className="success" role="status" data-testid="password-changed">
            Password changed. Other sessions were signed out; this one stays signed in.
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          Change password
        </button>
      </form>
    </div>
  );
}
