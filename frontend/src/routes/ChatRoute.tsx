import { useCallback, useState, type ReactNode } from "react";
import { useLocation, useParams } from "wouter";
import { api } from "../lib/api";
import { dropChatController } from "../lib/chatController";
import { useGet } from "../lib/useApi";
import type { ChatSessionSummary, Page, SessionCreated } from "../lib/protocol";
import { SessionSidebar } from "../components/chat/SessionSidebar";
import { ChatView } from "../components/chat/ChatView";
import { Composer } from "../components/chat/Composer";
import { EmptyState } from "../components/chat/EmptyState";
import { ErrorMessage } from "../components/ui/Feedback";

/** A chat that does not exist yet: the first message creates it, then its stream answers it. */
function NewChat({ onCreated, menuButton }: { onCreated: (created: SessionCreated) => void; menuButton: ReactNode }) {
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const start = async (message: string) => {
    setBusy(true);
    try {
      onCreated(await api.post<SessionCreated>("/chat/sessions", { message }));
    } catch (reason) {
      setError(reason);
      setDraft(message);
      setBusy(false);
    }
  };
  return (
    <section className="chat-view" aria-label="New chat">
      <header className="chat-header">
        {menuButton}
        <h1 className="chat-title">New chat</h1>
      </header>
      <div className="message-list-wrap">
        <div className="message-list" data-testid="message-list">
          <EmptyState
            onPick={(prompt) => {
              setDraft(prompt);
              // Straight into the box, caret at the end, ready to send or finish the sentence.
              const box = document.getElementById("composer-input");
              if (box instanceof HTMLTextAreaElement) {
                // Both in the frame after React has rendered the prompt, so focus and caret arrive together
                // (a focus that came first would let typing start before the caret moved to the end).
                window.requestAnimationFrame(() => {
                  box.focus();
                  box.setSelectionRange(prompt.length, prompt.length);
                });
              }
            }}
          />
        </div>
      </div>
      <ErrorMessage error={error} />
      <Composer text={draft} onTextChange={setDraft} running={false} disabled={busy} onSend={(text) => void start(text)} onStop={() => undefined} />
    </section>
  );
}

export function ChatRoute() {
  const params = useParams<{ id?: string }>();
  const [, navigate] = useLocation();
  const [query, setQuery] = useState("");
  const [drawerOpen, setDrawerOpen] = useState(false);
  const sessions = useGet<Page<ChatSessionSummary>>("/chat/sessions", { q: query, size: 100 });
  const activeId = params.id ?? null;
  const active = sessions.data?.items.find((session) => session.session_id === activeId);
  const { reload } = sessions;
  const closeDrawer = useCallback(() => setDrawerOpen(false), []);
  // Shown on narrow screens only, in the chat's header, where the sidebar becomes a drawer.
  const menuButton = (
    <button
      type="button"
      className="drawer-toggle"
      aria-controls="chat-sidebar"
      aria-expanded={drawerOpen}
      aria-label="Show chats"
      onClick={() => setDrawerOpen((open) => !open)}
    >
      ☰ Chats
    </button>
  );

  return (
    <div className="chat-layout">
      <aside className={`sidebar${drawerOpen ? " open" : ""}`} aria-label="Chat sessions" id="chat-sidebar">
        <SessionSidebar
          sessions={sessions.data?.items ?? []}
          loading={sessions.loading}
          error={sessions.error}
          activeId={activeId}
          query={query}
          onQuery={setQuery}
          onChanged={reload}
          onNavigate={closeDrawer}
          onDeleted={(id) => {
            dropChatController(id);
            reload();
            if (id === activeId) navigate("/chat");
          }}
        />
      </aside>
      {drawerOpen ? <div className="scrim" aria-hidden="true" onClick={closeDrawer} /> : null}
      <div className="chat-main">
        {activeId ? (
          <ChatView key={activeId} sessionId={activeId} title={active?.title ?? "Chat"} onActivity={reload} menuButton={menuButton} />
        ) : (
          <NewChat
            menuButton={menuButton}
            onCreated={(created) => {
              reload();
              navigate(`/chat/${created.session_id}`);
            }}
          />
        )}
      </div>
    </div>
  );
}
