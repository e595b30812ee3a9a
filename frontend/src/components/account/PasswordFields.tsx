/** A new password typed twice, with the server's rule (8 to 256 characters) said up front. */
export function NewPasswordFields({ idPrefix }: { idPrefix: string }) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-new`}>New password</label>
        <input id={`${idPrefix}-new`} name="new_password" type="password" autoComplete="new-password" required minLength={8} maxLength={256} aria-describedby={`${idPrefix}-rule`} />
        <p id={`${idPrefix}-rule`} className="muted small">
          At least 8 characters.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-repeat`}>Repeat the new password</label>
        <input id={`${idPrefix}-repeat`} name="repeat_password" type="password" autoComplete="new-password" required minLength={8} maxLength={256} />
      </div>
    </>
  );
}

/** The two new-password fields of a form: the password, or what is wrong with them. */
export function readNewPassword(form: FormData): { password: string } | { problem: string } {
  const password = String(form.get("new_password") ?? "");
  if (password.length < 8) return { problem: "The new password needs at least 8 characters." };
  if (password !== String(form.get("repeat_password") ?? "")) return { problem: "The two new passwords differ." };
  return { password };
}
