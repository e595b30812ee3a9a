import { useState } from "react";
import { requestRaw } from "../../lib/api";
import { errorText } from "../ui/Feedback";

function fileName(title: string, extension: string): string {
  const base = title.replace(/[^\w\- ]+/g, "").trim().replace(/\s+/g, "-").slice(0, 60) || "chat";
  return `${base}.${extension}`;
}

/** Download the chat as Markdown or JSON (GET /chat/sessions/{id}/export). */
export function ExportMenu({ sessionId, title }: { sessionId: string; title: string }) {
  const [error, setError] = useState<string | null>(null);
  const download = async (format: "markdown" | "json") => {
    try {
      const response = await requestRaw("GET", `/chat/sessions/${sessionId}/export`, { query: { format } });
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = fileName(title, format === "markdown" ? "md" : "json");
      link.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 1000);
      setError(null);
    } catch (reason) {
      setError(errorText(reason));
    }
  };
  return (
    <span className="export" role="group" aria-label="Export chat">
      <button type="button" onClick={() => void download("markdown")} aria-label="Export as Markdown" data-testid="export-markdown">
        Export .md
      </button>
      <button type="button" onClick={() => void download("json")} aria-label="Export as JSON" data-testid="export-json">
        .json
      </button>
      {error ? (
        <span className="error small" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}
