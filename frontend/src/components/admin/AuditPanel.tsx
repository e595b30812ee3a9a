import { useState, type FormEvent } from "react";
import { useGet } from "../../lib/useApi";
import type { AuditEvent, Page } from "../../lib/protocol";
import { Badge, ErrorMessage, JsonBlock, Spinner } from "../ui/Feedback";
import { Pager } from "../ui/Pager";

const FILTERS = [
  { name: "actor", label: "Actor", type: "text" },
  { name: "action", label: "Action (prefix*)", type: "text" },
  { name: "integration_id", label: "Integration id", type: "text" },
  { name: "patient_id", label: "Patient id", type: "text" },
  { name: "since", label: "Since", type: "datetime-local" },
  { name: "until", label: "Until", type: "datetime-local" },
] as const;

/** A datetime-local value (local time) as the ISO UTC instant the API expects. */
function toIso(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** The audit log with the contract's filters. */
export function AuditPanel() {
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [page, setPage] = useState(1);
  const { data, error, loading } = useGet<Page<AuditEvent>>("/audit", { ...filters, page, size: 50 });

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next: Record<string, string> = {};
    for (const filter of FILTERS) {
      const raw = String(form.get(filter.name) ?? "").trim();
      if (!raw) continue;
      next[filter.name] = filter.type === "datetime-local" ? toIso(raw) : raw;
    }
    setPage(1);
    setFilters(next);
  };

  return (
    <div data-testid="admin-audit">
      <form className="filters" onSubmit={apply} aria-label="Audit filters">
        {FILTERS.map((filter) => (
          <div className="field" key={filter.name}>
            <label htmlFor={`audit-${filter.name}`}>{filter.label}</label>
            <input id={`audit-${filter.name}`} name={filter.name} type={filter.type} />
          </div>
        ))}
        <button type="submit">Filter</button>
      </form>
      <ErrorMessage error={error} />
      {loading && !data ? <Spinner label="Loading audit log" /> : null}
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Outcome</th>
              <th>Integration</th>
              <th>Patient</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {(data?.items ?? []).map((event) => (
              <tr key={event.id} data-testid="audit-row">
                <td>{new Date(event.created_at).toLocaleString()}</td>
                <td>{event.actor ?? event.actor_id ?? "—"}</td>
                <td>
                  <code>{event.action}</code>
                </td>
                <td>
                  <Badge tone={event.outcome === "success" ? "ok" : event.outcome === "failure" ? "bad" : "neutral"}>{event.outcome}</Badge>
                </td>
                <td className="mono small">{event.integration_id ?? "—"}</td>
                <td>{event.patient_id ?? "—"}</td>
                <td>
                  {Object.keys(event.details).length ? (
                    <details>
                      <summary>View</summary>
                      <JsonBlock value={event.details} />
                    </details>
                  ) : (
                    "—"
                  )}
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
