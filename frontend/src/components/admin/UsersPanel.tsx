import { useEffect, useState } from "react";
import { api } from "../../lib/api";
import { useAuth } from "../../lib/auth";
import { useGet } from "../../lib/useApi";
import type { Page, User } from "../../lib/protocol";
import { ErrorMessage, Spinner } from "../ui/Feedback";
import { Pager } from "../ui/Pager";
import { ResetLinkButton } from "./ResetLinkButton";

/** Users: search, change role, activate or deactivate. */
export function UsersPanel() {
  const { user: me } = useAuth();
  const [page, setPage] = useState(1);
  const [query, setQuery] = useState("");
  const { data, error, loading, reload } = useGet<Page<User>>("/admin/users", { page, size: 20, q: query });
  const [actionError, setActionError] = useState<unknown>(null);
  // Changes shown at once, then replaced by what the server answers (or dropped if it refuses).
  const [shown, setShown] = useState<Record<string, User>>({});
  useEffect(() => setShown({}), [data]);

  const update = async (user: User, change: { role?: string; is_active?: boolean }) => {
    setActionError(null);
    setShown((current) => ({ ...current, [user.id]: { ...user, ...change } }));
    try {
      const saved = await api.patch<User>(`/admin/users/${user.id}`, change);
      setShown((current) => ({ ...current, [user.id]: saved }));
      reload();
    } catch (reason) {
      setShown(({ [user.id]: _dropped, ...rest }) => rest);
      setActionError(reason);
    }
  };

  return (
    <div data-testid="admin-users">
      <form
        className="row"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          const value = new FormData(event.currentTarget).get("q");
          setPage(1);
          setQuery(typeof value === "string" ? value.trim() : "");
        }}
      >
        <label htmlFor="user-search">Search users</label>
        <input id="user-search" name="q" type="search" />
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={error ?? actionError} />
      {loading && !data ? <Spinner label="Loading users" /> : null}
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>Username</th>
              <th>Email</th>
              <th>Role</th>
              <th>Active</th>
              <th>Password</th>
            </tr>
          </thead>
          <tbody>
            {(data?.items ?? []).map((listed) => shown[listed.id] ?? listed).map((user) => (
              <tr key={user.id} data-testid="user-row">
                <td>
                  {user.username}
                  {user.id === me?.id ? <span className="muted small"> (you)</span> : null}
                </td>
                <td className="wrap-anywhere">{user.email}</td>
                <td>
                  <label className="visually-hidden" htmlFor={`role-${user.id}`}>
                    Role of {user.username}
                  </label>
                  <select id={`role-${user.id}`} value={user.role} onChange={(event) => void update(user, { role: event.target.value })}>
                    <option value="user">user</option>
                    <option value="admin">admin</option>
                  </select>
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${user.username} is active`}
                    checked={user.is_active}
                    onChange={(event) => void update(user, { is_active: event.target.checked })}
                  />
                </td>
                <td>
                  <ResetLinkButton user={user} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data ? <Pager page={data.page} pages={data.pages} total={data.total} onPage={setPage} /> : null}
    </div>
  );
}
