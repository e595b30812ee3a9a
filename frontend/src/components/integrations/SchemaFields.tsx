import type { FormField, FormValues } from "../../lib/schemaForm";

interface Props {
  /** Prefix for element ids, so config and credentials fields never collide. */
  idPrefix: string;
  fields: FormField[];
  values: FormValues;
  errors: Record<string, string>;
  editing: boolean;
  onChange: (name: string, value: string | boolean) => void;
}

/** Inputs generated from a JSON schema's fields, each labelled, with its description as help text. */
export function SchemaFields({ idPrefix, fields, values, errors, editing, onChange }: Props) {
  return (
    <>
      {fields.map((field) => {
        const id = `${idPrefix}-${field.name}`;
        const helpId = `${id}-help`;
        const error = errors[field.name];
        const value = values[field.name];
        const text = typeof value === "string" ? value : "";
        const help = [
          field.description,
          field.secret && editing ? "Leave blank to keep the stored value." : "",
        ]
          .filter(Boolean)
          .join(" ");
        const common = {
          id,
          name: field.name,
          "aria-describedby": help || error ? helpId : undefined,
          "aria-invalid": error ? true : undefined,
        };
        let input;
        if (field.kind === "boolean") {
          input = <input {...common} type="checkbox" checked={value === true} onChange={(event) => onChange(field.name, event.target.checked)} />;
        } else if (field.kind === "enum") {
          input = (
            <select {...common} value={text} required={field.required} onChange={(event) => onChange(field.name, event.target.value)}>
              {!field.required || !text ? <option value="">{field.required ? "Choose…" : "(not set)"}</option> : null}
              {field.options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          );
        } else if (field.kind === "text" || field.kind === "json") {
          input = (
            <textarea
              {...common}
              rows={4}
              className={field.secret ? "mono secret-text" : "mono"}
              value={text}
              autoComplete="off"
              spellCheck={false}
              placeholder={field.secret && editing ? "••••••• (unchanged)" : undefined}
              onChange={(event) => onChange(field.name, event.target.value)}
            />
          );
        } else {
          input = (
            <input
              {...common}
              type={field.secret ? "password" : field.kind === "integer" || field.kind === "number" ? "number" : "text"}
              step={field.kind === "number" ? "any" : undefined}
              min={field.minimum}
              max={field.maximum}
              maxLength={field.maxLength}
              required={field.required && !(field.secret && editing)}
              autoComplete={field.secret ? "new-password" : "off"}
              placeholder={field.secret && editing ? "••••••• (unchanged)" : undefined}
              value={text}
              onChange={(event) => onChange(field.name, event.target.value)}
            />
          );
        }
        return (
          <div key={field.name} className={field.kind === "boolean" ? "field field-checkbox" : "field"}>
            <label htmlFor={id}>
              {field.label}
              {field.required ? <span aria-hidden="true"> *</span> : null}
            </label>
            {input}
            {help || error ? (
              <p id={helpId} className={error ? "error small" : "muted small"}>
                {error ?? help}
              </p>
            ) : null}
          </div>
        );
      })}
    </>
  );
}
