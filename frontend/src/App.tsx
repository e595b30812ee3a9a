import { lazy, Suspense } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { useAuth } from "./lib/auth";
import { dropChatController } from "./lib/chatController";
import { LoginRoute } from "./routes/LoginRoute";
import { ChatRoute } from "./routes/ChatRoute";
import { ErrorBoundary } from "./components/ui/ErrorBoundary";
import { Spinner } from "./components/ui/Feedback";

// Chat is the landing screen; the other screens load when first opened.
const IntegrationsRoute = lazy(() => import("./routes/IntegrationsRoute").then((m) => ({ default: m.IntegrationsRoute })));
const AccountRoute = lazy(() => import("./routes/AccountRoute").then((m) => ({ default: m.AccountRoute })));
const ResetPasswordRoute = lazy(() => import("./routes/ResetPasswordRoute").then((m) => ({ default: m.ResetPasswordRoute })));
const AdminRoute = lazy(() => import("./routes/AdminRoute").then((m) => ({ default: m.AdminRoute })));

function NavLink({ href, children }: { href: string; children: string }) {
  const [location] = useLocation();
  const current = location === href || location.startsWith(`${href}/`);
  return (
    <Link href={href} className={current ? "nav-link active" : "nav-link"} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function App() {
  const { user, loading, logout } = useAuth();
  const [location] = useLocation();
  if (loading) {
    return (
      <main className="auth-page">
        <Spinner label="Signing in" />
      </main>
    );
  }
  if (location === "/reset-password") {
    // A reset link works whoever is signed in on this browser (an admin trying the link, say).
    return (
      <Suspense fallback={<Spinner label="Loading" />}>
        <ResetPasswordRoute />
      </Suspense>
    );
  }
  if (!user) return <LoginRoute />;
  if (user.approval_status === "pending") {
    // Signed in but not yet approved: the server refuses everything else (403 account_pending).
    return (
      <main className="auth-page">
        <section className="card auth-card" data-testid="account-pending">
          <h1>Waiting for approval</h1>
          <p>
            Your account <strong>{user.username}</strong> was created. An administrator must approve it before you
            can use Switchboard; sign in again once they have.
          </p>
          <button type="button" onClick={() => void logout()}>
            Sign out
          </button>
        </section>
      </main>
    );
  }
  const isAdmin = user.role === "admin";
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Switchboard</span>
        <nav aria-label="Main" className="main-nav">
          <NavLink href="/chat">Chat</NavLink>
          <NavLink href="/integrations">Integrations</NavLink>
          {isAdmin ? <NavLink href="/admin">Admin</NavLink> : null}
          <NavLink href="/account">Account</NavLink>
        </nav>
        <Link href="/account" className="user" data-testid="current-user" aria-label={`Account of ${user.username}`}>
          {user.username}
        </Link>
        <button
          type="button"
          onClick={() => {
            dropChatController();
            void logout();
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" className="content">
        <ErrorBoundary resetKey={location}>
          <Suspense fallback={<Spinner label="Loading" />}>
            <Switch>
              <Route path="/chat/:id?" component={ChatRoute} />
              <Route path="/integrations" component={IntegrationsRoute} />
              <Route path="/account" component={AccountRoute} />
              {isAdmin ? <Route path="/admin/:tab?" component={AdminRoute} /> : null}
              <Route>
                <Redirect to="/chat" replace />
              </Route>
            </Switch>
          </Suspense>
        </ErrorBoundary>
      </main>
    </div>
  );
}
