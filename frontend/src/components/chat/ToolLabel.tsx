import { typeMark } from "../integrations/typeIcon";

interface Props {
  label: string | undefined;
  toolName: string;
  integrationType: string | null | undefined;
}

/** "Demo Jira · my open issues" with the integration type's mark; the internal name on hover. */
export function ToolLabel({ label, toolName, integrationType }: Props) {
  const kind = integrationType ?? "";
  return (
    <span className="tool-label" title={toolName}>
      {kind ? (
        <span className={`type-icon type-icon-small type-${kind}`} aria-hidden="true">
          {typeMark(kind)}
        </span>
      ) : null}
      <span>{label || toolName}</span>
    </span>
  );
}
