import { useState } from "react";
import { awaitingApproval, type AssistantItem, type UserItem } from "../../lib/reducer";
import type { ApprovalDecision, JsonObject } from "../../lib/protocol";
import { Markdown } from "../ui/Markdown";
import { CopyButton } from "../ui/CopyButton";
import { Spinner } from "../ui/Feedback";
import { ToolCard } from "./ToolCard";
import { ApprovalCard } from "./ApprovalCard";
import { Icon } from "../ui/Icon";

interface UserProps {
  item: UserItem;
  canEdit: boolean;
  onEdit: (messageId: string, text: string) => void;
}

export function UserMessage({ item, canEdit, onEdit }: UserProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(item.content);
  const save = () => {
    const text = draft.trim();
    if (text && item.messageId) onEdit(item.messageId, text);
    setEditing(false);
  };
  return (
    <article className="message message-user" data-testid="message-user" aria-label="Your message">
      {editing ? (
        <div className="field">
          <label htmlFor={`edit-${item.key}`}>Edit message</label>
          <textarea
            id={`edit-${item.key}`}
            rows={3}
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && !event.shiftKey) {
                event.preventDefault();
                save();
              } else if (event.key === "Escape") {
                event.preventDefault();
                setEditing(false);
              }
            }}
          />
          <div className="row">
            <button type="button" className="primary" onClick={save} disabled={!draft.trim()}>
              Save and resend
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <>
          <div className="bubble">{item.content}</div>
          <div className="message-actions">
            <CopyButton text={item.content} />
            {canEdit && item.messageId ? (
              <button
                type="button"
                className="icon-button"
                aria-label="Edit message"
                title="Edit message"
                onClick={() => {
                  setDraft(item.content);
                  setEditing(true);
                }}
              >
                <Icon name="edit" />
              </button>
            ) : null}
          </div>
        </>
      )}
    </article>
  );
}

interface AssistantProps {
  item: AssistantItem;
  isLast: boolean;
  canRegenerate: boolean;
  onRegenerate: () => void;
  onApproval: (toolCallId: string, decision: ApprovalDecision, extra: { args?: JsonObject; reason?: string }) => void;
}

const FINISH_TEXT: Record<string, string> = { cancelled: "Stopped", error: "The answer failed" };

export function AssistantMessage({ item, isLast, canRegenerate, onRegenerate, onApproval }: AssistantProps) {
  const paused = awaitingApproval(item);
  return (
    <article
      className="message message-assistant"
      data-testid="message-assistant"
      data-streaming={item.streaming}
      data-finish={item.finishReason ?? ""}
      aria-label="Assistant message"
      aria-busy={item.streaming}
    >
      {item.tools.map((tool) => (
        <ToolCard
          key={tool.toolCallId}
          tool={tool}
          awaitingApproval={item.approvals.some((a) => a.toolCallId === tool.toolCallId && a.status === "pending")}
        />
      ))}
      {item.approvals.map((approval) => (
        <ApprovalCard
          key={approval.toolCallId}
          approval={approval}
          onAnswer={(decision, extra) => onApproval(approval.toolCallId, decision, extra)}
        />
      ))}
      {item.content ? (
        <Markdown text={item.content} />
      ) : paused ? (
        <p className="muted" data-testid="awaiting-approval">
          Waiting for your decision.
        </p>
      ) : item.streaming ? (
        <p className="muted">
          <Spinner label="Thinking" /> {item.activity ?? "thinking"}…
        </p>
      ) : null}
      {item.streaming && !paused && item.content ? <span className="cursor" aria-hidden="true" /> : null}
      {item.error ? (
        <p className="error" role="alert">
          {item.error}
        </p>
      ) : null}
      {item.finishReason && item.finishReason !== "stop" ? (
        <p className={`finish finish-${item.finishReason}`} data-testid="finish-reason">
          {FINISH_TEXT[item.finishReason]}
        </p>
      ) : null}
      {!item.streaming ? (
        <div className="message-actions">
          <CopyButton text={item.content} />
          {isLast && canRegenerate ? (
            <button type="button" className="icon-button" aria-label="Regenerate answer" title="Regenerate answer" onClick={onRegenerate} data-testid="regenerate-button">
              <Icon name="regenerate" />
            </button>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}
