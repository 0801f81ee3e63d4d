// Pushed changes: the page keeps one WebSocket open to the push API (config.socket) while signed in.
// Each message carries the change itself (file id, status, name, version, the notice's text, who
// did it) and a cursor; after a drop the page reconnects with its last cursor and is sent what it
// missed (or told to reload). The socket opens with the id token in ?token= (a browser's WebSocket
// cannot set headers). API Gateway closes a connection idle for 10 minutes or open for 2 hours:
// the page pings every 9 minutes and reconnects whenever it closes. While it is down, the page polls.
import { pageConfig, session } from "./api.js";

const PING_MS = 9 * 60 * 1000;
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];
const CURSOR_KEY = "fileshare.push.cursor";
const SEEN_MAX = 2000; // cursors applied recently: a change replayed and pushed live is applied once

let socket = null;
let handlers = null; // { change(message), reload(), state(up) }
let up = false;
let attempt = 0;
let pingTimer = null;
let retryTimer = null;
const seen = new Set();

function cursor() {
  const value = Number(sessionStorage.getItem(CURSOR_KEY));
  return Number.isInteger(value) && value > 0 ? value : null;
}

function remember(value) {
  if (Number.isInteger(value) && value > (cursor() || 0)) sessionStorage.setItem(CURSOR_KEY, String(value));
}

function setUp(value) {
  if (up === value) return;
  up = value;
  if (handlers) handlers.state(value);
}

/** True while the socket is open and resumed: the page does not poll then. */
export function pushUp() {
  return up;
}

function receive(message) {
  if (message.type === "change") {
    if (seen.has(message.cursor)) return;
    seen.add(message.cursor);
    if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value);
    remember(message.cursor);
    handlers.change(message);
  } else if (message.type === "resumed") {
    remember(message.cursor);
    attempt = 0;
    setUp(true);
  } else if (message.type === "reload") {
    sessionStorage.setItem(CURSOR_KEY, String(message.cursor));
    attempt = 0;
    setUp(true);
    handlers.reload();
  }
}

async function open() {
  const settings = await pageConfig();
  const tokens = session();
  if (!handlers || !settings.socket || !tokens || !tokens.id_token) return;
  const url = `${settings.socket.replace(/\/$/, "")}/?token=${encodeURIComponent(tokens.id_token)}`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ action: "resume", cursor: cursor() }));
    clearInterval(pingTimer);
    pingTimer = setInterval(() => ws.send(JSON.stringify({ action: "ping" })), PING_MS);
  });
  ws.addEventListener("message", (event) => {
    try {
      receive(JSON.parse(event.data));
    } catch (err) {
      console.warn("push message ignored", err);
    }
  });
  ws.addEventListener("close", () => {
    clearInterval(pingTimer);
    if (socket !== ws) return; // stopped, or replaced
    socket = null;
    setUp(false);
    const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    retryTimer = setTimeout(() => open().catch(() => {}), wait);
  });
}

/** Open the socket (after sign-in); ``change``/``reload``/``state`` are the page's handlers. */
export function startPush(pageHandlers) {
  stopPush();
  handlers = pageHandlers;
  open().catch(() => {});
}

/** Close it (sign-out): no reconnects. */
export function stopPush() {
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  const ws = socket;
  socket = null;
  handlers = null;
  up = false;
  if (ws) ws.close(1000);
}
