import { useGet } from "../../lib/useApi";
import type { JsonValue } from "../../lib/protocol";
import { Badge, ErrorMessage, Spinner } from "../ui/Feedback";
import { statusTone } from "../integrations/typeIcon";

type Overview = Record<string, JsonValue>;

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function label(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function scalar(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Counts keyed by state, e.g. {delivered: 4, failed: 1}, as a small table. */
function Counts({ title, counts }: { title: string; counts: { [key: string]: JsonValue } }) {
  const entries = Object.entries(counts);
  return (
    <section className="card stat" aria-label={title}>
      <h3>{title}</h3>
      {entries.length ? (
        <table>
          <tbody>
            {entries.map(([key, value]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td>{scalar(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted small">None yet.</p>
      )}
    </section>
  );
}

/** Render nested groups ({hl7: {by_status: {...}}}) as count tables, whatever keys arrive. */
function Group({ name, value }: { name: string; value: { [key: string]: JsonValue } }) {
  const nested = Object.entries(value).filter(([, inner]) => isRecord(inner));
  const flat = Object.fromEntries(Object.entries(value).filter(([, inner]) => !isRecord(inner)));
  return (
    <>
      {nested.map(([key, inner]) => (
        <Counts key={key} title={`${label(name)}: ${label(key).toLowerCase()}`} counts={inner as { [key: string]: JsonValue }} />
      ))}
      {Object.keys(flat).length ? <Counts title={label(name)} counts={flat} /> : null}
    </>
  );
}

/** The admin overview: integration health, HL7 delivery, tool calls, approvals, live load. */
export function OverviewPanel() {
  const { data, error, loading, reload } = useGet<Overview>("/admin/overview");
  if (loading && !data) return <Spinner label="Loading overview" />;
  if (!data) return <ErrorMessage error={error} />;
  const integrations = Array.isArray(data.integrations) ? data.integrations.filter(isRecord) : [];
  const scalars = Object.entries(data).filter(([key, value]) => !isRecord(value) && !Array.isArray(value) && key !== "generated_at");
  const groups = Object.entries(data).filter((entry): entry is [string, { [key: string]: JsonValue }] => isRecord(entry[1]));
  return (
    <div className="overview" data-testid="admin-overview">
      <div className="row">
        {scalars.map(([key, value]) => (
          <div className="card stat" key={key}>
            <div className="muted small">{label(key)}</div>
            <div className="stat-value">{scalar(value)}</div>
          </div>
        ))}
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      <h2>Integrations</h2>
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Status</th>
              <th>Last test</th>
              <th>Error rate</th>
            </tr>
          </thead>
          <tbody>
            {integrations.map((row, index) => (
              <tr key={scalar(row.id) + index}>
                <td>{scalar(row.name)}</td>
                <td>{scalar(row.integration_type)}</td>
                <td>
                  <Badge tone={statusTone(scalar(row.status))}>{scalar(row.status)}</Badge>
                </td>
                <td>{scalar(row.last_test)}</td>
                <td>{typeof row.error_rate === "number" ? `${Math.round(row.error_rate * 100)} %` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="grid">
        {groups.map(([key, value]) => (
          <Group key={key} name={key} value={value} />
        ))}
      </div>
    </div>
  );
}
