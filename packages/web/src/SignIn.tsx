import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, AUTH_REQUIRED_EVENT, signIn } from "./api.js";

/**
 * The sign-in form of a server started with --token-file: shown over the page as soon as any request is
 * answered 401. A correct token sets the session cookie and the page reloads with the same address.
 */
export function SignIn() {
  const [needed, setNeeded] = useState(false);
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const show = () => setNeeded(true);
    window.addEventListener(AUTH_REQUIRED_EVENT, show);
    return () => window.removeEventListener(AUTH_REQUIRED_EVENT, show);
  }, []);

  // A modal form takes the focus when it appears (keyboard users land in the field).
  useEffect(() => {
    if (needed) input.current?.focus();
  }, [needed]);

  if (!needed) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(token);
      window.location.reload();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? "That token is not accepted." : (err as Error).message);
      setBusy(false);
    }
  };
  return (
    <div className="signin-backdrop">
      <form className="signin" onSubmit={submit} data-testid="signin">
        <h2>This RTT server needs a token</h2>
        <p>
          It was started with <code>--token-file</code>. Paste the token (or the read-only token) to view its data.
        </p>
        <input
          className="signin-token"
          type="password"
          autoComplete="current-password"
          aria-label="Token"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          ref={input}
        />
        {error && <p className="state error">{error}</p>}
        <button type="submit" className="primary" disabled={busy || token.trim() === ""}>
          Sign in
        </button>
      </form>
    </div>
  );
}
