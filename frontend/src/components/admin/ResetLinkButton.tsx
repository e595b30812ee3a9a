import { useState } from "react";
import { api } from "../../lib/api";
import type { User } from "../../lib/protocol";
import { CopyButton } from "../ui/CopyButton";
import { ErrorMessage } from "../ui/Feedback";

interface ResetLink {
  token: string;
  path: string;
  expires_at: string;
}

/** Create a one-time password reset link for a user and show it to pass on (no mail server assumed). */
export function ResetLinkButton({ user }: { user: User }) {
  const [link, setLink] = useState<string | null>(null);
  const [expires, setExpires] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const made = await api.post<ResetLink>(`/admin/users/${user.id}/password-reset`);
      setLink(new URL(made.path, window.location.origin).toString());
      setExpires(new Date(made.expires_at).toLocaleString());
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="reset-link">
      <button type="button" onClick={() => void create()} disabled={busy} aria-label={`Create a password reset link for ${user.username}`}>
        Reset link
      </button>
      {link ? (
        <div className="reset-link-made small" data-testid="reset-link">
          <label htmlFor={`reset-${user.id}`}>One-time link for {user.username} (until {expires})</label>
          <div className="row">
            <input id={`reset-${user.id}`} className="mono grow" readOnly value={link} onFocus={(event) => event.currentTarget.select()} />
            <CopyButton text={link} label={`Copy the reset link for ${user.username}`} />
          </div>
          <p className="muted">Pass it on privately; it works once. A new link replaces this one.</p>
        </div>
      ) : null}
      <ErrorMessage error={error} />
    </div>
  );
}
