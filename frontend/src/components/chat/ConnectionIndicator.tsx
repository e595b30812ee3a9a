import type { ConnectionInfo } from "../../lib/chatController";

const LABELS: Record<ConnectionInfo["state"], string> = {
  idle: "Not connected",
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

/** The stream's state; while reconnecting it says when the next attempt is due. */
export function ConnectionIndicator({ connection }: { connection: ConnectionInfo }) {
  let text = LABELS[connection.state];
  if (connection.state === "reconnecting" && connection.retryInMs !== null) {
    text = `Reconnecting in ${Math.max(1, Math.round(connection.retryInMs / 1000))} s (attempt ${connection.attempt})`;
  }
  if (connection.fatal) text = connection.fatal;
  return (
    <span className={`connection connection-${connection.state}`} data-testid="connection-indicator" data-state={connection.state} role="status" aria-label={`Connection: ${text}`}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
