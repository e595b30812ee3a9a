import { Link, useParams } from "wouter";
import { OverviewPanel } from "../components/admin/OverviewPanel";
import { UsersPanel } from "../components/admin/UsersPanel";
import { AuditPanel } from "../components/admin/AuditPanel";
import { Hl7Panel } from "../components/admin/Hl7Panel";
import { PolicyPanel } from "../components/admin/PolicyPanel";
import { ChannelsPanel } from "../components/admin/ChannelsPanel";
import { QueuesPanel } from "../components/admin/QueuesPanel";

const TABS = [
  { id: "overview", label: "Overview", Panel: OverviewPanel },
  { id: "users", label: "Users", Panel: UsersPanel },
  { id: "audit", label: "Audit log", Panel: AuditPanel },
  { id: "messages", label: "HL7 messages", Panel: Hl7Panel },
  { id: "channels", label: "HL7 channels", Panel: ChannelsPanel },
  { id: "queues", label: "HL7 queues", Panel: QueuesPanel },
  { id: "policy", label: "Approval policy", Panel: PolicyPanel },
] as const;

/** Admin screens (the route exists only for admins). */
export function AdminRoute() {
  const params = useParams<{ tab?: string }>();
  const current = TABS.find((tab) => tab.id === params.tab) ?? TABS[0];
  const { Panel } = current;
  return (
    <div className="page">
      <header className="page-header">
        <h1>Admin</h1>
      </header>
      <nav className="tabs" aria-label="Admin sections">
        {TABS.map((tab) => (
          <Link key={tab.id} href={`/admin/${tab.id}`} className={tab.id === current.id ? "tab active" : "tab"} aria-current={tab.id === current.id ? "page" : undefined}>
            {tab.label}
          </Link>
        ))}
      </nav>
      <h2 className="visually-hidden">{current.label}</h2>
      <Panel />
    </div>
  );
}
