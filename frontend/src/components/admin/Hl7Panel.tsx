import { useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useGet } from "../../lib/useApi";
import type { Hl7Explanation, Hl7Message, Hl7MessageSummary, Page } from "../../lib/protocol";
import { fieldPosition, sortedProblems, summaryFacts } from "../../lib/hl7";
import { Badge, ErrorMessage, Spinner } from "../ui/Feedback";
import { Pager } from "../ui/Pager";

function tone(status: string): "ok" | "bad" | "warn" | "neutral" {
  if (status === "delivered") return "ok";
  if (status === "failed") return "bad";
  if (status === "retrying" || status === "partially_delivered" || status === "queued") return "warn";
  return "neutral";
}

/** Segments with named fields, the summary and any problems, from POST /hl7/explain. */
export function Hl7ExplanationView({ explanation }: { explanation: Hl7Explanation }) {
  const facts = summaryFacts(explanation.summary);
  const problems = sortedProblems(explanation.problems ?? []);
  const hasErrors = problems.some((problem) => problem.severity === "error");
  return (
    <div className="hl7-explain" data-testid="hl7-explanation">
      {facts.length ? (
        <dl className="facts">
          {facts.map((fact) => (
            <div key={fact.label}>
              <dt>{fact.label}</dt>
              <dd>{fact.value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {problems.length ? (
        <div className={hasErrors ? "problems error" : "problems"} role={hasErrors ? "alert" : undefined}>
          <strong>{hasErrors ? "Problems" : "Notes"}</strong>
          <ul>
            {problems.map((problem, index) => (
              <li key={`${problem.location}-${index}`}>
                <Badge tone={problem.severity === "error" ? "bad" : "warn"}>{problem.severity}</Badge>{" "}
                <code>{problem.location}</code> {problem.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {explanation.segments.map((segment, index) => (
        <details key={`${segment.name}-${index}`} open={index < 3}>
          <summary>
            <code>{segment.name}</code> {segment.description}
          </summary>
          <div className="table-scroll">
            <table className="data">
              <tbody>
                {segment.fields.map((field) => (
                  <tr key={`${field.position}`}>
                    <th scope="row" className="mono">
                      {fieldPosition(segment.name, field.position)}
                    </th>
                    <td>{field.name}</td>
                    <td className="mono">{field.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ))}
    </div>
  );
}

function MessageDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error, loading, reload } = useGet<Hl7Message>(`/messages/${id}`);
  const [view, setView] = useState<"raw" | "explain">("raw");
  const [explanation, setExplanation] = useState<Hl7Explanation | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [replayed, setReplayed] = useState(false);

  const explain = async () => {
    setView("explain");
    if (explanation || !data?.raw) return;
    try {
      setExplanation(await api.post<Hl7Explanation>("/hl7/explain", { message: data.raw }));
    } catch (reason) {
      setActionError(reason);
    }
  };
  const replay = async () => {
    setActionError(null);
    try {
      await api.post(`/messages/${id}/replay`);
      setReplayed(true);
      reload();
    } catch (reason) {
      setActionError(reason);
    }
  };

  if (loading && !data) return <Spinner label="Loading message" />;
  if (!data) return <ErrorMessage error={error} />;
  return (
    <section className="card" aria-label="HL7 message detail" data-testid="hl7-detail">
      <header className="row">
        <h3 className="grow">
          {data.message_type ?? "Message"} <span className="mono small">{data.control_id}</span>
        </h3>
        <Badge tone={tone(data.status)}>{data.status}</Badge>
        <button type="button" onClick={() => void replay()}>
          Replay
        </button>
        <button type="button" onClick={onClose} aria-label="Close message detail">
          Close
        </button>
      </header>
      {replayed ? <p className="muted small" role="status">Queued for delivery again.</p> : null}
      <ErrorMessage error={actionError} />
      {data.error ? <p className="error">{data.error}</p> : null}
      <h4>Destinations</h4>
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>System</th>
              <th>Status</th>
              <th>ACK</th>
              <th>Attempts</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {data.destinations.map((destination, index) => (
              <tr key={`${destination.system}-${index}`} data-testid="hl7-destination">
                <td>{destination.system}</td>
                <td>
                  <Badge tone={tone(destination.status)}>{destination.status}</Badge>
                </td>
                <td>{destination.ack_code ?? "—"}</td>
                <td>{destination.attempts}</td>
                <td>{destination.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="tabs" role="tablist" aria-label="Message view">
        <button type="button" role="tab" aria-selected={view === "raw"} onClick={() => setView("raw")}>
          Raw
        </button>
        <button type="button" role="tab" aria-selected={view === "explain"} onClick={() => void explain()}>
          Explain
        </button>
      </div>
      {view === "raw" ? (
        <pre className="json" aria-label="Raw message">
          {(data.raw ?? "").replace(/\r\n?/g, "\n")}
        </pre>
      ) : explanation ? (
        <Hl7ExplanationView explanation={explanation} />
      ) : (
        <Spinner label="Explaining" />
      )}
      {data.ack ? (
        <details>
          <summary>ACK</summary>
          <pre className="json">{data.ack.replace(/\r\n?/g, "\n")}</pre>
        </details>
      ) : null}
    </section>
  );
}

/** The HL7 message log: filters, list, and a detail with destinations, raw and explained views. */
export function Hl7Panel() {
  const [filters, setFilters] = useState<{ status?: string; message_type?: string }>({});
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<string | null>(null);
  const { data, error, loading } = useGet<Page<Hl7MessageSummary>>("/messages", { ...filters, page, size: 25 });

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const status = String(form.get("status") ?? "");
    const messageType = String(form.get("message_type") ?? "").trim();
    setPage(1);
    setFilters({ ...(status ? { status } : {}), ...(messageType ? { message_type: messageType } : {}) });
  };

  return (
    <div data-testid="admin-hl7">
      <form className="filters" onSubmit={apply} aria-label="Message filters">
        <div className="field">
          <label htmlFor="hl7-status">Status</label>
          <select id="hl7-status" name="status" defaultValue="">
            <option value="">Any</option>
            {["accepted", "retrying", "delivered", "partially_delivered", "failed", "received"].map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="hl7-type">Message type</label>
          <input id="hl7-type" name="message_type" placeholder="ADT or ADT^A01" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <ErrorMessage error={error} />
      {loading && !data ? <Spinner label="Loading messages" /> : null}
      {selected ? <MessageDetail key={selected} id={selected} onClose={() => setSelected(null)} /> : null}
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>Received</th>
              <th>Direction</th>
              <th>Type</th>
              <th>Control id</th>
              <th>Patient</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {(data?.items ?? []).map((message) => (
              <tr key={message.message_id} data-testid="hl7-row">
                <td>
                  <button type="button" className="link" onClick={() => setSelected(message.message_id)} aria-label={`Open message ${message.control_id ?? message.message_id}`}>
                    {new Date(message.timestamp).toLocaleString()}
                  </button>
                </td>
                <td>{message.direction}</td>
                <td>{message.message_type ?? "—"}</td>
                <td className="mono">{message.control_id ?? "—"}</td>
                <td>{message.patient_id ?? "—"}</td>
                <td>
                  <Badge tone={tone(message.status)}>{message.status}</Badge>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data ? <Pager page={data.page} pages={data.pages} total={data.total} onPage={setPage} /> : null}
    </div>
  );
}
