import { useEffect, useState } from "react";
import { api } from "../../lib/api";
import { useGet } from "../../lib/useApi";
import type { Integration, IntegrationTool, Page, PolicyDecision } from "../../lib/protocol";
import { Badge, ErrorMessage, Spinner } from "../ui/Feedback";

const DECISIONS: PolicyDecision[] = ["allow", "ask", "deny"];

function ToolPolicy({ integration }: { integration: Integration }) {
  const { data, error, loading, reload } = useGet<IntegrationTool[]>(`/integrations/${integration.id}/tools`);
  const [choices, setChoices] = useState<Record<string, PolicyDecision>>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    setChoices(Object.fromEntries((data ?? []).map((tool) => [tool.name, tool.effective_decision])));
  }, [data]);

  const save = async () => {
    if (!data) return;
    setSaveError(null);
    setSaved(false);
    // Only tools that differ from their default are overrides.
    const overrides = data.flatMap((tool) => {
      const decision = choices[tool.name];
      return decision && decision !== tool.default_decision ? [{ tool: tool.name, decision }] : [];
    });
    try {
      await api.put(`/integrations/${integration.id}/policy`, { overrides });
      setSaved(true);
      reload();
    } catch (reason) {
      setSaveError(reason);
    }
  };

  if (loading && !data) return <Spinner label="Loading tools" />;
  if (!data) return <ErrorMessage error={error} />;
  return (
    <div data-testid="policy-editor">
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th>Tool</th>
              <th>Decision</th>
              <th>Default</th>
              <th>Access</th>
              <th>PHI</th>
            </tr>
          </thead>
          <tbody>
            {data.map((tool) => (
              <tr key={tool.name} data-testid="policy-row">
                <td>
                  <code>{tool.name}</code>
                  <div className="muted small">{tool.description}</div>
                </td>
                <td>
                  <label className="visually-hidden" htmlFor={`policy-${tool.name}`}>
                    Decision for {tool.name}
                  </label>
                  <select
                    id={`policy-${tool.name}`}
                    value={choices[tool.name] ?? tool.effective_decision}
                    onChange={(event) => setChoices((current) => ({ ...current, [tool.name]: event.target.value as PolicyDecision }))}
                  >
                    {DECISIONS.map((decision) => (
                      <option key={decision} value={decision}>
                        {decision}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{tool.default_decision}</td>
                <td>{tool.access}</td>
                <td>{tool.phi ? <Badge tone="warn">PHI</Badge> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorMessage error={saveError} />
      <div className="row">
        <button type="button" className="primary" onClick={() => void save()}>
          Save policy
        </button>
        {saved ? (
          <span className="muted small" role="status">
            Saved.
          </span>
        ) : null}
      </div>
    </div>
  );
}

/** Approval policy: per integration and tool, allow / ask a person / deny. */
export function PolicyPanel() {
  const { data, error } = useGet<Page<Integration>>("/integrations", { size: 100 });
  const [selected, setSelected] = useState("");
  const integration = data?.items.find((item) => item.id === selected);
  return (
    <div data-testid="admin-policy">
      <div className="field">
        <label htmlFor="policy-integration">Integration</label>
        <select id="policy-integration" value={selected} onChange={(event) => setSelected(event.target.value)}>
          <option value="">Choose an integration…</option>
          {(data?.items ?? []).map((item) => (
            <option key={item.id} value={item.id}>
              {item.name} ({item.integration_type})
            </option>
          ))}
        </select>
      </div>
      <ErrorMessage error={error} />
      {integration ? <ToolPolicy key={integration.id} integration={integration} /> : null}
    </div>
  );
}
