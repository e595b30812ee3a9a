interface Props {
  text: string;
  onTextChange: (text: string) => void;
  running: boolean;
  disabled?: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
  placeholder?: string;
}

/** The message box: Enter sends, Shift+Enter adds a line, Esc stops the answer in progress. */
export function Composer({ text, onTextChange: setText, running, disabled = false, onSend, onStop, placeholder = "Ask Switchboard…" }: Props) {
  const send = () => {
    const message = text.trim();
    if (!message || running || disabled) return;
    onSend(message);
    setText("");
  };
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        data-testid="composer-input"
        rows={2}
        value={text}
        placeholder={placeholder}
        disabled={disabled}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            send();
          } else if (event.key === "Escape" && running) {
            event.preventDefault();
            onStop();
          }
        }}
      />
      {running ? (
        <button type="button" className="danger" onClick={onStop} data-testid="stop-button" aria-label="Stop generating">
          Stop
        </button>
      ) : (
        <button type="submit" className="primary" disabled={!text.trim() || disabled} data-testid="send-button" aria-label="Send message">
          Send
        </button>
      )}
    </form>
  );
}
