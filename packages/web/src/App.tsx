import { DiffView } from "./ctf/DiffView.js";
import { LiveView } from "./ctf/LiveView.js";
import { TracesView } from "./ctf/TracesView.js";
import { TraceView } from "./ctf/TraceView.js";
import { FabricView } from "./fabric/FabricView.js";
import { Mastery } from "./Mastery.js";
import { Replay } from "./Replay.js";
import { href, onLinkClick, useParams } from "./route.js";
import { SignIn } from "./SignIn.js";
import { SessionsView } from "./sessions/SessionsView.js";

export function App() {
  const p = useParams();
  const view = p.view ?? "sessions";
  const nav: { id: string; label: string; params: Record<string, string> }[] = [
    { id: "sessions", label: "Sessions", params: {} },
    { id: "mastery", label: "Mastery", params: { view: "mastery" } },
    { id: "traces", label: "Agent traces", params: { view: "traces" } },
    { id: "fabric", label: "Fabric", params: { view: "fabric" } },
  ];
  const active =
    view === "replay" || view === "curriculum"
      ? "sessions"
      : view === "trace" || view === "trace-diff" || view === "trace-live"
        ? "traces"
        : view;
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href={href({})} onClick={(e) => onLinkClick(e, {})}>
          QEB Replay
        </a>
        <nav aria-label="Main">
          {nav.map((n) => (
            <a
              key={n.id}
              href={href(n.params)}
              aria-current={active === n.id ? "page" : undefined}
              onClick={(e) => onLinkClick(e, n.params)}
              data-testid={`nav-${n.id}`}
            >
              {n.label}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {view === "replay" || view === "curriculum" ? (
          p.session ? (
            <Replay key={p.session} id={p.session} params={p} curriculum={view === "curriculum"} />
          ) : (
            <p className="state empty">No session in the address. Pick one from the session list.</p>
          )
        ) : view === "traces" ? (
          <TracesView params={p} />
        ) : view === "trace" ? (
          p.trace ? (
            <TraceView key={p.trace} id={p.trace} params={p} />
          ) : (
            <p className="state empty">No trace in the address. Pick one from the traces list.</p>
          )
        ) : view === "trace-diff" ? (
          <DiffView params={p} />
        ) : view === "trace-live" ? (
          p.trace ? (
            <LiveView id={p.trace} params={p} />
          ) : (
            <p className="state empty">No trace in the address. Pick a live one from the traces list.</p>
          )
        ) : view === "fabric" ? (
          <FabricView params={p} />
        ) : view === "mastery" ? (
          <Mastery params={p} />
        ) : (
          <SessionsView params={p} />
        )}
      </main>
      <SignIn />
    </div>
  );
}
