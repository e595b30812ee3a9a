import { useState } from "react";
import { Icon } from "./Icon";

/** Copies text to the clipboard and says so for a moment. */
export function CopyButton({ text, label = "Copy message" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false); // clipboard refused (insecure context): nothing else to do
    }
  };
  return (
    <button type="button" className="icon-button" aria-label={label} title={label} onClick={() => void copy()} data-testid="copy-button">
      <Icon name={copied ? "check" : "copy"} />
    </button>
  );
}
