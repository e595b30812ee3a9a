import { useEffect, useState, type ReactNode } from "react";
import { chatController, useChatSnapshot } from "../../lib/chatController";
import { activeRun } from "../../lib/reducer";
import { MessageList } from "./MessageList";
import { AssistantMessage, UserMessage } from "./Messages";
import { Composer } from "./Composer";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { ExportMenu } from "./ExportMenu";
import { ErrorMessage } from "../ui/Feedback";
import { Icon } from "../ui/Icon";

interface Props {
  sessionId: string;
  title: string;
  onActivity: () => void;
  /** Opens the sessions drawer on narrow screens. */
  menuButton?: ReactNode;
}

/** An open chat: history and live answers, the composer, and the connection state. */
export function ChatView({ sessionId, title, onActivity, menuButton }: Props) {
  const controller = chatController(sessionId);
  const { chat, connection, historyError } = useChatSnapshot(controller);
  const [draft, setDraft] = useState("");
  const running = activeRun(chat) !== null;

  useEffect(() => {
    controller.onActivity = onActivity;
    void controller.attach();
    return () => {
      controller.onActivity = null;
      controller.detach();
    };
  }, [controller, onActivity]);

  // Esc stops the answer wherever the focus is (the composer handles it itself and marks it handled).
  useEffect(() => {
    if (!running) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      event.preventDefault();
      controller.cancel();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [controller, running]);

  const lastIndex = chat.items.length - 1;
  const lastAssistant = chat.items.findLastIndex((item) => item.kind === "assistant");

  return (
    <section className="chat-view" aria-label={`Chat: ${title}`}>
      <header className="chat-header">
        {menuButton}
        <h1 className="chat-title">{title}</h1>
        <ConnectionIndicator connection={connection} />
        <ExportMenu sessionId={sessionId} title={title} />
      </header>
      <ErrorMessage error={historyError} />
      <MessageList contentKey={chat}>
        {chat.items.map((item, index) => {
          if (item.kind === "user") {
            return <UserMessage key={item.key} item={item} canEdit={!running} onEdit={(id, text) => controller.edit(id, text)} />;
          }
          if (item.kind === "assistant") {
            return (
              <AssistantMessage
                key={item.key}
                item={item}
                isLast={index === lastAssistant && index === lastIndex}
                canRegenerate={!running && connection.state === "open"}
                onRegenerate={() => controller.regenerate()}
                onApproval={(toolCallId, decision, extra) => controller.answerApproval(toolCallId, decision, extra)}
              />
            );
          }
          return (
            <div key={item.key} className="notice" role="alert" data-testid="notice" data-code={item.code}>
              <span>{item.content || item.code}</span>
              <button type="button" className="icon-button" aria-label="Dismiss notice" onClick={() => controller.dismissNotice(item.key)}>
                <Icon name="close" />
              </button>
            </div>
          );
        })}
      </MessageList>
      <Composer
        text={draft}
        onTextChange={setDraft}
        running={running}
        disabled={connection.fatal !== null}
        onSend={(text) => controller.sendMessage(text)}
        onStop={() => controller.cancel()}
      />
    </section>
  );
}
