// The Fileshare API from the page: same-origin JSON calls, errors from the {"error": {code, message}}
// envelope, and the session (tokens in sessionStorage, so a reload keeps it; gone with the tab).
// Tokens are refreshed silently ahead of expiry and once more on a 401, so work in progress
// (an upload, a half-filled form) survives an expired id token.

const TOKENS_KEY = "fileshare.tokens";
const REFRESH_MARGIN_S = 60; // refresh this long before the id token expires
const NETWORK_RETRIES_MS = [500, 1500, 4000];
// Where the API is and the stage's ids: /config.json, written at deploy time from the stack's own
// values (served locally by the gateway from the namespace's env; infra/web_headers.py builds both).
// "api" is "" when the API is on the page's origin (CloudFront routes it; the gateway locally).
let apiBase = "";
const configReady = fetch("/config.json", { headers: { Accept: "application/json" } })
  .then((response) => (response.ok ? response.json() : {}))
  .then((config) => {
    apiBase = String(config.api || "").replace(/\/$/, "");
    return config;
  })
  .catch(() => ({})); // no config file: the API is on the same origin

/** The page's config (/config.json), once it has been read. */
export function pageConfig() {
  return configReady;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let tokens = load();
let refreshing = null; // one refresh at a time, shared by every caller that needs it
let refreshTimer = null;
const listeners = new Set();

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "null");
  } catch {
    return null;
  }
}

export function session() {
  return tokens;
}

export function onSessionChange(fn) {
  listeners.add(fn);
}

export function setSession(next) {
  tokens = next;
  if (next) sessionStorage.setItem(TOKENS_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(TOKENS_KEY);
  scheduleRefresh();
  for (const fn of listeners) fn(tokens);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!tokens || !tokens.refresh_token || !tokens.expires_at) return;
  const wait = Math.max(tokens.expires_at - Date.now() / 1000 - REFRESH_MARGIN_S, 5) * 1000;
  refreshTimer = setTimeout(() => refresh().catch(() => {}), Math.min(wait, 2 ** 31 - 1));
}

export function withExpiry(fresh) {
  return { ...fresh, expires_at: Date.now() / 1000 + Number(fresh.expires_in || 3600) };
}

/** Swap the refresh token for fresh tokens; false (and signed out) when the server refuses it. */
export function refresh() {
  if (!tokens || !tokens.refresh_token) return Promise.resolve(false);
  if (!refreshing) {
    const current = tokens;
    refreshing = call("POST", "/auth/refresh", { refresh_token: current.refresh_token }, { auth: false })
      .then((fresh) => {
        setSession({ ...current, ...withExpiry(fresh), refresh_token: fresh.refresh_token || current.refresh_token });
        return true;
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 401) {
          setSession(null);
          return false;
        }
        throw err;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

async function call(method, path, body, { auth = true, signal, headers: extra, raw = false } = {}) {
  const headers = { Accept: "application/json", ...(extra || {}) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && tokens && tokens.id_token) headers.Authorization = `Bearer ${tokens.id_token}`;
  let response;
  await configReady;
  for (let attempt = 0; ; attempt += 1) {
    try {
      response = await fetch(apiBase + path, {
        method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      });
      break;
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      // A dropped connection: wait until the browser is back online, or retry a few times with
      // backoff when it does not know; then give up with a clear error.
      if (navigator.onLine === false) await new Promise((resolve) => window.addEventListener("online", resolve, { once: true }));
      else if (attempt < NETWORK_RETRIES_MS.length) await new Promise((resolve) => setTimeout(resolve, NETWORK_RETRIES_MS[attempt]));
      else throw new ApiError(0, "network_error", `Cannot reach the server (${err.message}).`);
    }
  }
  const text = await response.text();
  if (raw && response.ok) return { text, headers: response.headers }; // e.g. a CSV export page
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const err = data && data.error;
    if (err && err.message) throw new ApiError(response.status, err.code || "error", err.message);
    throw new ApiError(response.status, "http_error", `Request failed (HTTP ${response.status}).`);
  }
  return data;
}

/** An authenticated API call; one silent refresh and retry on 401. */
export async function api(method, path, body, options = {}) {
  try {
    return await call(method, path, body, options);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && options.auth !== false && tokens
        && tokens.refresh_token && !path.startsWith("/auth/") && (await refresh())) {
      return call(method, path, body, options);
    }
    throw err;
  }
}

scheduleRefresh();
