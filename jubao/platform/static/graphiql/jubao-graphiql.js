// The GraphiQL page's own logic: a session bar (log in, or paste an access token; who is
// logged in; log out) and GraphiQL, whose requests carry the session's token.
//
// The session lives in sessionStorage: it survives a reload of the tab (developers reload
// GraphiQL often) but not the tab itself, and no other tab or later browser session sees it.
// Never localStorage, which keeps a bearer token on disk for every tab until someone deletes
// it. The page's Content-Security-Policy lets no script run here but this file and the
// vendored GraphiQL and React, which is what keeps other code away from the stored token.
"use strict";

(function () {
  const ENDPOINT = window.location.pathname;
  const STORAGE_KEY = "jubao.graphiql.session";
  const REFRESH_MARGIN_MS = 60 * 1000; // refresh this long before expiry (or at 3/4 of its life)

  const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(input: {username: $username, password: $password}) {
    tokens { accessToken accessTokenExpiresAt refreshToken }
    user { username displayName }
    userErrors { field message code }
  }
}`;
  const REFRESH = `mutation Refresh($refreshToken: String!) {
  tokenRefresh(input: {refreshToken: $refreshToken}) {
    tokens { accessToken accessTokenExpiresAt refreshToken }
    userErrors { message code }
  }
}`;
  const ME = `{ me { user { username displayName } } }`;
  const DEFAULT_QUERY = `# 居保 jubao GraphQL
#
# Log in above (or paste an access token): every request from this page then carries
# "Authorization: Bearer <token>". Run with Ctrl-Enter; Ctrl-Space completes.

{
  me {
    user { username displayName region { name } }
    grants { role { title } regionCode }
  }
}
`;

  const $ = (id) => document.getElementById(id);

  // --- the session -------------------------------------------------------------------------

  let session = load();
  let refreshing = null; // the refresh under way, so that parallel requests share it
  let timer = null;

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(STORAGE_KEY));
    } catch {
      return null;
    }
  }

  function save(next, message) {
    session = next;
    if (next) {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    } else {
      sessionStorage.removeItem(STORAGE_KEY);
    }
    show(message || "");
    schedule();
  }

  // A timer wakes the session when its token is due, so that an idle page refreshes it (or
  // says that it expired) without waiting for the next request.
  function schedule() {
    clearTimeout(timer);
    if (!session) return;
    const due = session.refreshToken ? session.refreshAt : session.expiresAt;
    timer = setTimeout(() => currentToken().catch(() => {}), Math.max(due - Date.now(), 0));
  }

  // A session for a token the server says expires at serverExpiry (its clock), read on this
  // browser's clock: the two may differ by minutes, so the answer's Date header converts.
  function sessionFor(accessToken, refreshToken, serverExpiry, serverNow, user) {
    const now = Date.now();
    const expiresAt = serverExpiry + (Number.isFinite(serverNow) ? now - serverNow : 0);
    const margin = Math.min(REFRESH_MARGIN_MS, (expiresAt - now) / 4);
    return { accessToken, refreshToken, expiresAt, refreshAt: expiresAt - margin, user };
  }

  // The expiry of a pasted token (one the server has just accepted), from its payload.
  function jwtExpiry(token) {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp * 1000;
  }

  // POST a GraphQL request: the answer's body, and the server's clock when it answered.
  async function post(request, token, extraHeaders) {
    const headers = new Headers({ "Content-Type": "application/json", Accept: "application/json" });
    if (token) headers.set("Authorization", `Bearer ${token}`);
    // (a Headers object: "authorization" from the Headers pane replaces ours, whatever its case)
    for (const [name, value] of Object.entries(extraHeaders || {})) headers.set(name, value);
    const response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify(request),
    });
    return { body: await response.json(), serverNow: Date.parse(response.headers.get("Date")) };
  }

  // The refusal in an answer (a request error, or the mutation's first userError), if any.
  function refusal(body, field) {
    if (body.errors && body.errors.length) return body.errors[0];
    const errors = (body.data[field] && body.data[field].userErrors) || [];
    return errors.length ? errors[0] : null;
  }

  function loggedIn(tokens, serverNow, user) {
    const expiry = Date.parse(tokens.accessTokenExpiresAt);
    save(sessionFor(tokens.accessToken, tokens.refreshToken, expiry, serverNow, user));
  }

  async function login(username, password) {
    const { body, serverNow } = await post({ query: LOGIN, variables: { username, password } });
    const refused = refusal(body, "login");
    if (refused) return show(refused.message);
    loggedIn(body.data.login.tokens, serverNow, body.data.login.user);
  }

  async function useToken(token) {
    const { body, serverNow } = await post({ query: ME }, token);
    const refused = refusal(body, "me");
    if (refused) return show(refused.message);
    save(sessionFor(token, null, jwtExpiry(token), serverNow, body.data.me.user));
  }

  async function refresh() {
    const variables = { refreshToken: session.refreshToken };
    const { body, serverNow } = await post({ query: REFRESH, variables });
    const refused = refusal(body, "tokenRefresh");
    if (refused) {
      save(null, `会话已结束，请重新登录 (session ended, log in again): ${refused.message}`);
      return null;
    }
    loggedIn(body.data.tokenRefresh.tokens, serverNow, session.user);
    return session.accessToken;
  }

  // The access token to send now: refreshed first when it is about to expire; none, and the
  // bar says why, when it has expired and cannot be refreshed.
  async function currentToken() {
    if (!session) return null;
    const now = Date.now();
    if (now < (session.refreshToken ? session.refreshAt : session.expiresAt)) {
      return session.accessToken;
    }
    if (!session.refreshToken) {
      const at = new Date(session.expiresAt).toLocaleTimeString();
      save(null, `令牌已于 ${at} 过期，请重新登录或粘贴新令牌 (the token expired at ${at})`);
      return null;
    }
    refreshing = refreshing || refresh().finally(() => (refreshing = null));
    return refreshing;
  }

  // --- the bar -----------------------------------------------------------------------------

  function show(message) {
    const user = session && session.user;
    $("login-form").hidden = Boolean(session);
    $("token-form").hidden = Boolean(session);
    $("session-user").hidden = !session;
    $("session-name").textContent = user ? `${user.displayName} (${user.username})` : "";
    $("session-expiry").textContent = session
      ? `· 令牌有效至 token valid until ${new Date(session.expiresAt).toLocaleTimeString()}` +
        (session.refreshToken ? "，自动刷新 (refreshed automatically)" : "")
      : "";
    $("session-message").textContent = message;
  }

  function wireBar() {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      login(form.username.value, form.password.value)
        .then(() => form.reset())
        .catch((error) => show(String(error)));
    });
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const token = form.token.value.trim().replace(/^Bearer\s+/i, "");
      useToken(token)
        .then(() => form.reset())
        .catch((error) => show(String(error)));
    });
    $("logout").addEventListener("click", () => save(null));
    // Another tab's log-out cannot reach this one (sessionStorage is per tab), so no listener.
    show("");
    schedule();
  }

  // --- GraphiQL ----------------------------------------------------------------------------

  // GraphiQL's requests: the session's token unless the headers editor sets its own.
  async function fetcher(params, options) {
    const token = await currentToken();
    const { body } = await post(params, token, options && options.headers);
    // The server ended the session (revoked, or expired by its clock): say so in the bar.
    const error = body.errors && body.errors[0];
    const ended = error && error.extensions && error.extensions.code === "UNAUTHENTICATED";
    if (ended && token && session && session.accessToken === token) {
      save(null, `会话已结束，请重新登录 (session ended, log in again): ${error.message}`);
    }
    return body;
  }

  function mountGraphiQL() {
    const root = ReactDOM.createRoot($("graphiql"));
    root.render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: DEFAULT_QUERY,
        // The headers editor may hold a token: keep it out of localStorage.
        shouldPersistHeaders: false,
      }),
    );
  }

  wireBar();
  mountGraphiQL();
})();
