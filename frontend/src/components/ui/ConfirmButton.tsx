import { useState, type ReactNode } from "react";

interface Props {
  label: string;
  /** The question asked before acting, e.g. "Delete this chat?" */
  question: string;
  onConfirm: () => void | Promise<void>;
  children?: ReactNode;
  className?: string;
  testId?: string;
}

/** A destructive action that asks inline for confirmation before it runs. */
export function ConfirmButton({ label, question, onConfirm, children, className = "danger", testId }: Props) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={className} aria-label={label} title={label} onClick={() => setAsking(true)} data-testid={testId}>
        {children ?? label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        Confirm
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
