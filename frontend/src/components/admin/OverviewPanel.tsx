import { useGet } from "../../lib/useApi";
import type { JsonValue } from "../../lib/protocol";
import { Badge, ErrorMessage, Spinner } from "../ui/Feedback";
import { statusTone, typeMark } from "../integrations/typeIcon";
import { timeAgo } from "../../lib/time";
import { ActivityCharts } from "./ActivityCharts";

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
      <ActivityCharts />
      <h2>Integrations</h2>
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Status</th>
              <th>Last success</th>
              <th>Last failure</th>
              <th>Error rate (1 h)</th>
            </tr>
          </thead>
          <tbody>
            {integrations.map((row, index) => {
              const health = isRecord(row.health) ? row.health : {};
              const rate = health.error_rate_1h;
              return (
                <tr key={scalar(row.id) + index} data-testid="overview-integration" data-name={scalar(row.name)}>
                  <td>{scalar(row.name)}</td>
                  <td>
                    <span className={`type-icon type-icon-small type-${scalar(row.integration_type)}`} aria-hidden="true">
                      {typeMark(scalar(row.integration_type))}
                    </span>{" "}
                    {scalar(row.integration_type)}
                  </td>
                  <td>
                    <Badge tone={statusTone(scalar(row.status))}>{scalar(row.status)}</Badge>
                  </td>
                  <td>{timeAgo(typeof health.last_success_at === "string" ? health.last_success_at : null)}</td>
                  <td>
                    {timeAgo(typeof health.last_failure_at === "string" ? health.last_failure_at : null)}
                    {health.last_failure_at && typeof health.last_error === "string" ? (
                      <div className="muted small health-error">{health.last_error}</div>
                    ) : null}
                  </td>
                  <td>{typeof rate === "number" ? `${Math.round(rate * 100)} %` : "—"}</td>
                </tr>
              );
            })}
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
