import { useState } from "react";
import { api } from "../lib/api";
import { useAuth } from "../lib/auth";
import { useGet } from "../lib/useApi";
import type { Integration, IntegrationTypeInfo, Page, TestResult } from "../lib/protocol";
import { IntegrationForm } from "../components/integrations/IntegrationForm";
import { TestResultView } from "../components/integrations/TestResultView";
import { statusTone, typeMark } from "../components/integrations/typeIcon";
import { HealthView } from "../components/integrations/HealthView";
import { ConfirmButton } from "../components/ui/ConfirmButton";
import { Badge, ErrorMessage, Spinner, errorText } from "../components/ui/Feedback";
import { Pager } from "../components/ui/Pager";

type Editing = { mode: "none" } | { mode: "create" } | { mode: "edit"; integration: Integration };

function IntegrationRow({ integration, canManage, onEdit, onDeleted, onTested }: {
  integration: Integration;
  canManage: boolean;
  onEdit: () => void;
  onDeleted: () => void;
  /** A test changes the integration's status: the list shows the new one. */
  onTested: () => void;
}) {
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const test = async () => {
    setTesting(true);
    setError(null);
    try {
      setResult(await api.post<TestResult>(`/integrations/${integration.id}/test`));
      onTested();
    } catch (reason) {
      setError(reason);
    } finally {
      setTesting(false);
    }
  };
  const remove = async () => {
    try {
      await api.delete(`/integrations/${integration.id}`);
      onDeleted();
    } catch (reason) {
      setError(reason);
    }
  };
  return (
    <li className="card integration" data-testid="integration-item" data-integration-id={integration.id} aria-label={integration.name}>
      <div className="integration-head">
        <span className={`type-icon type-${integration.integration_type}`} aria-hidden="true">
          {typeMark(integration.integration_type)}
        </span>
        <div className="grow">
          <strong>{integration.name}</strong>
          <div className="muted small">
            {integration.integration_type} · {integration.visibility}
            {integration.description ? ` · ${integration.description}` : ""}
          </div>
        </div>
        <Badge tone={statusTone(integration.status)}>{integration.status}</Badge>
      </div>
      <HealthView health={integration.health} />
      <div className="row">
        <button type="button" onClick={() => void test()} disabled={testing} aria-label={`Test connection of ${integration.name}`}>
          {testing ? <Spinner label="Testing" /> : null} Test connection
        </button>
        {canManage ? (
          <>
            <button type="button" onClick={onEdit} aria-label={`Edit ${integration.name}`}>
              Edit
            </button>
            <ConfirmButton label={`Delete ${integration.name}`} question={`Delete ${integration.name}?`} onConfirm={remove}>
              Delete
            </ConfirmButton>
          </>
        ) : null}
      </div>
      <ErrorMessage error={error} />
      {result ? <TestResultView result={result} /> : null}
    </li>
  );
}

/** Integrations: list with status, create/edit forms from the type schemas, connection tests. */
export function IntegrationsRoute() {
  const { user } = useAuth();
  const isAdmin = user?.role === "admin";
  const [page, setPage] = useState(1);
  const list = useGet<Page<Integration>>("/integrations", { page, size: 20 });
  const types = useGet<IntegrationTypeInfo[]>("/integrations/types");
  const [editing, setEditing] = useState<Editing>({ mode: "none" });

  return (
    <div className="page">
      <header className="page-header">
        <h1>Integrations</h1>
        {editing.mode === "none" ? (
          <button type="button" className="primary" onClick={() => setEditing({ mode: "create" })} disabled={!types.data?.length}>
            + Add integration
          </button>
        ) : null}
      </header>
      {types.error ? <p className="error" role="alert">Could not load integration types: {errorText(types.error)}</p> : null}
      {editing.mode !== "none" && types.data ? (
        <IntegrationForm
          key={editing.mode === "edit" ? editing.integration.id : "new"}
          types={types.data}
          integration={editing.mode === "edit" ? editing.integration : null}
          isAdmin={isAdmin}
          onCancel={() => setEditing({ mode: "none" })}
          onSaved={() => {
            setEditing({ mode: "none" });
            list.reload();
          }}
        />
      ) : null}
      <ErrorMessage error={list.error} />
      {list.loading && !list.data ? <Spinner label="Loading integrations" /> : null}
      {list.data && !list.data.items.length ? <p className="muted">No integrations yet.</p> : null}
      <ul className="integration-list" aria-label="Integrations">
        {(list.data?.items ?? []).map((integration) => (
          <IntegrationRow
            key={integration.id}
            integration={integration}
            canManage={isAdmin || integration.owner_id === user?.id}
            onEdit={() => setEditing({ mode: "edit", integration })}
            onDeleted={list.reload}
            onTested={list.reload}
          />
        ))}
      </ul>
      {list.data ? <Pager page={list.data.page} pages={list.data.pages} total={list.data.total} onPage={setPage} /> : null}
    </div>
  );
}
