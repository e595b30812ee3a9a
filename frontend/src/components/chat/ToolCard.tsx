import { useState } from "react";
import type { ToolCard as ToolCardData } from "../../lib/reducer";
import { JsonBlock, Spinner } from "../ui/Feedback";
import { ToolLabel } from "./ToolLabel";

/** One tool call: its human label and status in the header; internal name, arguments and result when expanded. */
export function ToolCard({ tool, awaitingApproval = false }: { tool: ToolCardData; awaitingApproval?: boolean }) {
  const [open, setOpen] = useState(tool.status === "failed");
  const waiting = awaitingApproval && tool.status === "started";
  const statusText = waiting ? "awaiting approval" : tool.status === "started" ? "running" : tool.status;
  const shown = tool.label || tool.toolName;
  return (
    <div className={`tool-card tool-${tool.status}`} data-testid="tool-card" data-status={tool.status} data-tool={tool.toolName}>
      <button
        type="button"
        className="tool-header"
        aria-expanded={open}
        aria-label={`Tool ${shown}: ${statusText}`}
        onClick={() => setOpen((value) => !value)}
      >
        <span aria-hidden="true">{open ? "▾" : "▸"}</span>
        <ToolLabel label={tool.label} toolName={tool.toolName} integrationType={tool.integrationType} />
        <span className="tool-status">
          {tool.status === "started" && !waiting ? <Spinner label={`${shown} running`} /> : null}
          {statusText}
        </span>
      </button>
      {open ? (
        <div className="tool-body">
          {tool.summary ? <p className="small">{tool.summary}</p> : null}
          <p className="muted small">
            Tool <code data-testid="tool-internal-name">{tool.toolName}</code>
          </p>
          <h4>Arguments</h4>
          <JsonBlock value={tool.args} label="Tool arguments" />
          {tool.result !== undefined ? (
            <>
              <h4>{tool.status === "failed" ? "Error" : "Result"}</h4>
              <JsonBlock value={tool.result} label="Tool result" />
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
