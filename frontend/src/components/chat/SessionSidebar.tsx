import { useEffect, useRef, useState } from "react";
import { Link } from "wouter";
import { api } from "../../lib/api";
import { plainPreview } from "../../lib/preview";
import type { ChatSessionSummary } from "../../lib/protocol";
import { ConfirmButton } from "../ui/ConfirmButton";
import { ErrorMessage, Spinner } from "../ui/Feedback";
import { Icon } from "../ui/Icon";

interface Props {
  sessions: ChatSessionSummary[];
  loading: boolean;
  error: unknown;
  activeId: string | null;
  query: string;
  onQuery: (query: string) => void;
  onChanged: () => void;
  onDeleted: (sessionId: string) => void;
  onNavigate: () => void;
}

function SessionItem({ session, active, onChanged, onDeleted, onNavigate }: {
  session: ChatSessionSummary;
  active: boolean;
  onChanged: () => void;
  onDeleted: (id: string) => void;
  onNavigate: () => void;
}) {
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(session.title);
  const [error, setError] = useState<unknown>(null);

  // Esc cancels; the input's blur (which also fires as it goes away) must not save the draft then.
  const cancelled = useRef(false);

  const rename = async () => {
    const next = title.trim();
    setRenaming(false);
    if (cancelled.current || !next || next === session.title) return;
    try {
      await api.patch(`/chat/sessions/${session.session_id}`, { title: next });
      onChanged();
    } catch (reason) {
      setError(reason);
    }
  };
  const remove = async () => {
    try {
      await api.delete(`/chat/sessions/${session.session_id}`);
      onDeleted(session.session_id);
    } catch (reason) {
      setError(reason);
    }
  };

  return (
    <li className={`session-item${active ? " active" : ""}`} data-testid="session-item" data-session-id={session.session_id}>
      {renaming ? (
        <form
          className="rename"
          onSubmit={(event) => {
            event.preventDefault();
            void rename();
          }}
        >
          <label htmlFor={`rename-${session.session_id}`} className="visually-hidden">
            Chat title
          </label>
          <input
            id={`rename-${session.session_id}`}
            value={title}
            maxLength={120}
            autoFocus
            onChange={(event) => setTitle(event.target.value)}
            onKeyDown={(event) => {
              if (event.key !== "Escape") return;
              event.preventDefault(); // cancels the rename only, not a running answer
              cancelled.current = true;
              setRenaming(false);
            }}
            onBlur={() => void rename()}
          />
        </form>
      ) : (
        <Link href={`/chat/${session.session_id}`} className="session-link" aria-current={active ? "page" : undefined} onClick={onNavigate}>
          <span className="session-title">{session.title}</span>
          {session.last_message_preview ? <span className="session-preview">{plainPreview(session.last_message_preview)}</span> : null}
        </Link>
      )}
      <span className="session-actions">
        <button
          type="button"
          className="icon-button"
          aria-label={`Rename ${session.title}`}
          title="Rename"
          onClick={() => {
            cancelled.current = false;
            setTitle(session.title);
            setRenaming(true);
          }}
        >
          <Icon name="edit" />
        </button>
        <ConfirmButton label={`Delete ${session.title}`} question="Delete this chat?" onConfirm={remove} className="icon-button">
          <Icon name="trash" />
        </ConfirmButton>
      </span>
      <ErrorMessage error={error} />
    </li>
  );
}

/** The chats: new, search, rename, delete; most recently active first. */
export function SessionSidebar({ sessions, loading, error, activeId, query, onQuery, onChanged, onDeleted, onNavigate }: Props) {
  const [search, setSearch] = useState(query);
  useEffect(() => {
    const timer = window.setTimeout(() => onQuery(search.trim()), 250);
    return () => window.clearTimeout(timer);
  }, [search, onQuery]);
  const ordered = [...sessions].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return (
    <div className="sidebar-inner">
      <Link href="/chat" className="button primary new-chat" onClick={onNavigate} data-testid="new-chat">
        + New chat
      </Link>
      <div className="field">
        <label htmlFor="session-search" className="visually-hidden">
          Search chats
        </label>
        <input id="session-search" type="search" placeholder="Search chats" value={search} onChange={(event) => setSearch(event.target.value)} />
      </div>
      {loading && !sessions.length ? <Spinner label="Loading chats" /> : null}
      <ErrorMessage error={error} />
      <ul className="session-list" aria-label="Chats" data-testid="session-list">
        {ordered.map((session) => (
          <SessionItem
            key={session.session_id}
            session={session}
            active={session.session_id === activeId}
            onChanged={onChanged}
            onDeleted={onDeleted}
            onNavigate={onNavigate}
          />
        ))}
      </ul>
      {!loading && !sessions.length ? <p className="muted small">{query ? "No chats match." : "No chats yet."}</p> : null}
    </div>
  );
}
