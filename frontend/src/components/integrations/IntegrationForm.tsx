import { useMemo, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { fieldsFromSchema, initialValues, payloadFromValues, type FormValues } from "../../lib/schemaForm";
import type { Integration, IntegrationTypeInfo, JsonObject, Visibility } from "../../lib/protocol";
import { ErrorMessage } from "../ui/Feedback";
import { SchemaFields } from "./SchemaFields";

interface Props {
  types: IntegrationTypeInfo[];
  /** The integration being edited, or null to create one. */
  integration: Integration | null;
  isAdmin: boolean;
  onSaved: (integration: Integration) => void;
  onCancel: () => void;
}

/** Create or edit an integration; its fields come from the type's config and credentials schemas. */
export function IntegrationForm({ types, integration, isAdmin, onSaved, onCancel }: Props) {
  const editing = integration !== null;
  const [typeName, setTypeName] = useState(integration?.integration_type ?? types[0]?.name ?? "");
  const type = types.find((candidate) => candidate.name === typeName);
  const configFields = useMemo(() => (type ? fieldsFromSchema(type.config_schema) : []), [type]);
  const credentialFields = useMemo(() => (type ? fieldsFromSchema(type.credentials_schema) : []), [type]);
  const [name, setName] = useState(integration?.name ?? "");
  const [visibility, setVisibility] = useState<Visibility>(integration?.visibility ?? "private");
  const [config, setConfig] = useState<FormValues>(() => initialValues(configFields, integration?.config ?? null));
  const [credentials, setCredentials] = useState<FormValues>(() => initialValues(credentialFields, null));
  const [errors, setErrors] = useState<{ config: Record<string, string>; credentials: Record<string, string> }>({ config: {}, credentials: {} });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const changeType = (next: string) => {
    const nextType = types.find((candidate) => candidate.name === next);
    setTypeName(next);
    setConfig(nextType ? initialValues(fieldsFromSchema(nextType.config_schema), null) : {});
    setCredentials(nextType ? initialValues(fieldsFromSchema(nextType.credentials_schema), null) : {});
    setErrors({ config: {}, credentials: {} });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const configResult = payloadFromValues(configFields, config, editing);
    const credentialResult = payloadFromValues(credentialFields, credentials, editing);
    setErrors({ config: configResult.errors, credentials: credentialResult.errors });
    if (!name.trim()) {
      setError("Name is required.");
      return;
    }
    if (Object.keys(configResult.errors).length || Object.keys(credentialResult.errors).length) {
      setError("Please correct the highlighted fields.");
      return;
    }
    const hasCredentials = Object.keys(credentialResult.value).length > 0;
    setBusy(true);
    setError(null);
    try {
      let saved: Integration;
      if (integration) {
        const body: JsonObject = { name: name.trim(), config: configResult.value, visibility };
        if (hasCredentials) body.credentials = credentialResult.value; // omitted = keep the stored ones
        saved = await api.patch<Integration>(`/integrations/${integration.id}`, body);
      } else {
        saved = await api.post<Integration>("/integrations", {
          name: name.trim(),
          integration_type: typeName,
          config: configResult.value,
          credentials: credentialResult.value,
          visibility,
        });
      }
      onSaved(saved);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card integration-form" onSubmit={(event) => void submit(event)} aria-label={editing ? `Edit ${integration.name}` : "New integration"} noValidate>
      <h2>{editing ? `Edit ${integration.name}` : "New integration"}</h2>
      <div className="field">
        <label htmlFor="integration-type">Type</label>
        <select id="integration-type" value={typeName} disabled={editing} onChange={(event) => changeType(event.target.value)}>
          {types.map((candidate) => (
            <option key={candidate.name} value={candidate.name}>
              {candidate.name}
            </option>
          ))}
        </select>
        {type?.description ? <p className="muted small">{type.description}</p> : null}
      </div>
      <div className="field">
        <label htmlFor="integration-name">Name</label>
        <input id="integration-name" value={name} maxLength={100} required onChange={(event) => setName(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="integration-visibility">Visibility</label>
        <select id="integration-visibility" value={visibility} onChange={(event) => setVisibility(event.target.value as Visibility)}>
          <option value="private">Private (only me)</option>
          {isAdmin || visibility === "shared" ? <option value="shared">Shared (everyone)</option> : null}
        </select>
      </div>
      <fieldset>
        <legend>Configuration</legend>
        <SchemaFields
          idPrefix="config"
          fields={configFields}
          values={config}
          errors={errors.config}
          editing={editing}
          onChange={(field, value) => setConfig((current) => ({ ...current, [field]: value }))}
        />
      </fieldset>
      {credentialFields.length ? (
        <fieldset>
          <legend>Credentials {editing && integration.has_credentials ? <span className="muted small">(stored; write-only)</span> : null}</legend>
          {type?.credentials_schema.description ? <p className="muted small">{type.credentials_schema.description}</p> : null}
          {editing && integration.has_credentials ? (
            <p className="muted small" data-testid="credentials-hint">
              The stored credentials are kept while these fields stay empty. To change them, fill in every field
              your sign-in needs: they are replaced together.
            </p>
          ) : null}
          <SchemaFields
            idPrefix="credentials"
            fields={credentialFields}
            values={credentials}
            errors={errors.credentials}
            editing={editing}
            onChange={(field, value) => setCredentials((current) => ({ ...current, [field]: value }))}
          />
        </fieldset>
      ) : null}
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          {editing ? "Save changes" : "Create integration"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
