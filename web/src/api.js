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

/** How long a 429 asks to wait (Retry-After: seconds or an HTTP date), in ms; 1 s if it does not say. */
export function retryAfterMs(value, now = Date.now()) {
  const text = String(value || "").trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? 1000 : Math.max(at - now, 0);
}

const throttleListeners = new Set();

/** ``fn(waitMs, path)`` on every 429 the page waits out (to say so, never to offer a retry). */
export function onThrottle(fn) {
  throttleListeners.add(fn);
  return () => throttleListeners.delete(fn);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("aborted", "AbortError"));
    }, { once: true });
  });
}

async function send(method, path, body, headers, signal) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fetch(apiBase + path, {
        method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      // A dropped connection: wait until the browser is back online, or retry a few times with
      // backoff when it does not know; then give up with a clear error.
      if (navigator.onLine === false) await new Promise((resolve) => window.addEventListener("online", resolve, { once: true }));
      else if (attempt < NETWORK_RETRIES_MS.length) await sleep(NETWORK_RETRIES_MS[attempt], signal);
      else throw new ApiError(0, "network_error", `Cannot reach the server (${err.message}).`);
    }
  }
}

async function call(method, path, body, { auth = true, signal, headers: extra, raw = false, onThrottle: throttled } = {}) {
  const headers = { Accept: "application/json", ...(extra || {}) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && tokens && tokens.id_token) headers.Authorization = `Bearer ${tokens.id_token}`;
  await configReady;
  let response = await send(method, path, body, headers, signal);
  // Too many requests: the server says how long to wait (Retry-After); wait that long, a little
  // more so that waiting clients do not all come back in the same instant, and go on. A throttle
  // is never an error the user has to act on.
  while (response.status === 429) {
    const wait = retryAfterMs(response.headers.get("Retry-After")) + Math.floor(Math.random() * 250);
    await response.text().catch(() => "");
    for (const fn of throttleListeners) fn(wait, path);
    if (throttled) throttled(wait);
    await sleep(wait, signal);
    response = await send(method, path, body, headers, signal);
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
