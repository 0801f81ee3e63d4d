// Fileshare's web page: accounts, uploads (Uppy, straight to S3), files, search, previews, sharing,
// public links, trash, notifications and quota. API calls are same-origin (the gateway serves the
// page); only file bytes go to S3 (presigned). Bundled by esbuild (make web) into web/dist/app.js.
import { api, ApiError, onSessionChange, onThrottle, refresh, session, setSession, withExpiry } from "./api.js";
import { createUploader, forgetResumable, resumableUploads } from "./uploads.js";
import { showActivity, wireActivity } from "./activity.js";
import { showVersions, wireVersions } from "./versions.js";
import { refreshArchives, selectBox, showArchive, stopArchives, wireArchives, zipFolder } from "./archives.js";
import { droppedFiles, listingPath, moveTargets, place, relativePathOf, renderCrumbs } from "./folders.js";
import { $, el } from "./dom.js";
import { pushUp, startPush, stopPush } from "./push.js";

const LIST_POLL_MS = 1500; // while a file is pending (live status without a manual refresh)
const STATUS_BATCH = 100; // file ids per GET /files/status (the server takes up to 100)
const REFRESH_COALESCE_MS = 700; // uploads finishing together refresh the list once
const NOTIFY_POLL_MS = 10000;

function say(text, kind = "info") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.hidden = !text;
}

function showError(err) {
  say(err instanceof Error ? err.message : String(err), "error");
}

export function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m}:${String(s % 60).padStart(2, "0")}`;
}

function formatDate(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function form(formEl) {
  return Object.fromEntries(new FormData(formEl).entries());
}

// ---- accounts ------------------------------------------------------------------------------

const AUTH_TITLES = {
  login: "Log in", register: "Create an account", confirm: "Confirm your email",
  forgot: "Forgotten password", reset: "Choose a new password",
};

function authMode(mode, email) {
  for (const f of document.querySelectorAll(".auth-form")) f.hidden = f.dataset.mode !== mode;
  $("auth-title").textContent = AUTH_TITLES[mode];
  const target = document.querySelector(`.auth-form[data-mode="${mode}"]`);
  if (email) for (const input of target.querySelectorAll('input[type="email"]')) input.value = email;
  const first = [...target.querySelectorAll("input")].find((i) => !i.value) || target.querySelector("input");
  if (first) first.focus();
}

async function login(email, password) {
  const fresh = await api("POST", "/auth/login", { email, password }, { auth: false });
  setSession({ ...withExpiry(fresh), email });
  say("");
}

function wireAuth() {
  for (const button of document.querySelectorAll("[data-goto]")) {
    button.addEventListener("click", () => {
      const email = document.querySelector(".auth-form:not([hidden]) input[type=email]")?.value;
      authMode(button.dataset.goto, email);
    });
  }
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email, password } = form(ev.target);
    try {
      await login(email, password);
    } catch (err) {
      if (err instanceof ApiError && err.code === "user_not_confirmed") {
        authMode("confirm", email);
        say("Confirm your email first: enter the code we sent you.", "error");
      } else showError(err);
    }
  });
  $("register-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email, password } = form(ev.target);
    try {
      const created = await api("POST", "/auth/register", { email, password }, { auth: false });
      if (created && created.confirmation_required) {
        authMode("confirm", email);
        // The same answer whether the address is new or already has an account (its owner is mailed).
        say(`Account created: check ${email} for the confirmation code. `
          + "If the address already had an account, the email says so; log in instead.");
      } else {
        authMode("login", email);
        say("Account created. You can log in now.");
      }
    } catch (err) {
      showError(err);
    }
  });
  $("confirm-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email, code } = form(ev.target);
    try {
      await api("POST", "/auth/confirm", { email, code: code.trim() }, { auth: false });
      authMode("login", email);
      say("Email confirmed. You can log in now.");
    } catch (err) {
      showError(err);
    }
  });
  $("resend").addEventListener("click", async () => {
    const email = $("confirm-email").value;
    try {
      await api("POST", "/auth/resend", { email }, { auth: false });
      say(`If ${email} has an account waiting for confirmation, we sent it a new code.`);
    } catch (err) {
      showError(err);
    }
  });
  $("forgot-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email } = form(ev.target);
    try {
      await api("POST", "/auth/forgot", { email }, { auth: false });
      authMode("reset", email);
      say(`If ${email} has an account, we sent it a reset code.`);
    } catch (err) {
      showError(err);
    }
  });
  $("reset-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email, code, password } = form(ev.target);
    try {
      await api("POST", "/auth/reset", { email, code: code.trim(), password }, { auth: false });
      authMode("login", email);
      say("Password changed. Log in with the new one.");
    } catch (err) {
      showError(err);
    }
  });
  $("logout").addEventListener("click", () => {
    // Forget the session here at once, and revoke its refresh token in Cognito (POST /auth/logout).
    const refreshToken = session() && session().refresh_token;
    setSession(null);
    say("You are logged out.");
    if (refreshToken) {
      api("POST", "/auth/logout", { refresh_token: refreshToken }, { auth: false }).catch(() =>
        say("You are logged out on this device, but the server could not be reached to end the session."));
    }
  });
}

// ---- uploads -------------------------------------------------------------------------------

let uploader = null;

function renderQueueItem(id) {
  const info = uploader.state.get(id);
  if (!info) return;
  let item = document.querySelector(`#queue li[data-id="${CSS.escape(id)}"]`);
  if (!item) {
    const nameId = `q-${id.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
    item = el("li", { "data-id": id, class: "upload" },
      el("span", { class: "name", id: nameId, text: info.name }),
      el("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${info.name}` }),
      el("span", { class: "detail", "aria-live": "off" }),
      el("span", { class: "ustatus" }),
      el("button", { type: "button", class: "secondary", "data-act": "cancel", "aria-describedby": nameId,
                     onclick: () => uploader.cancel(id) }, "Cancel"),
      el("button", { type: "button", class: "secondary", "data-act": "retry", "aria-describedby": nameId,
                     onclick: () => uploader.retry(id).catch(showError) }, "Retry"));
    $("queue").append(item);
  }
  const percent = info.total ? Math.floor((100 * (info.bytes || 0)) / info.total) : 0;
  item.querySelector("progress").value = percent;
  item.dataset.status = info.status;
  const detail = info.status === "uploading"
    ? `${percent} % · ${formatSize(info.bytes)} of ${formatSize(info.total)}`
      + (info.rate ? ` · ${formatSize(info.rate)}/s · ${formatDuration(info.eta)} left` : "")
    : `${formatSize(info.total)}${info.resumed ? " · resumed" : ""}${info.skippedParts != null
      ? ` · ${info.skippedParts} parts already uploaded` : ""}`;
  item.querySelector(".detail").textContent = detail;
  const labels = { queued: "Waiting", starting: "Starting", uploading: "Uploading", processing: "Checking",
                   throttled: `Waiting: the server asked to slow down, going on in ${info.waitS || 1} s`,
                   ready: "Ready", rejected: "Rejected", failed: `Failed: ${info.error || ""}`,
                   cancelled: "Cancelled" };
  item.querySelector(".ustatus").textContent = labels[info.status] || info.status;
  item.querySelector('[data-act="cancel"]').hidden = !["queued", "starting", "throttled", "uploading", "failed"]
    .includes(info.status);
  // Retry only where sending the bytes failed (it resumes); a throttle is waited out, never retried
  // by hand, and an upload the server refused (quota, name) would only be refused again.
  item.querySelector('[data-act="retry"]').hidden = info.status !== "failed" || Boolean(info.refused);
}

const uploadedFiles = new Map(); // fileshare file id -> uppy file id

function wireUploads(owner) {
  uploader = createUploader({
    owner,
    changed: renderQueueItem,
    uploaded: (uppyId, fileId) => {
      uploadedFiles.set(fileId, uppyId);
      refreshSoon();
      pollUploadsSoon();
    },
    listChanged: () => {
      if (currentView === "files") refreshSoon();
    },
  });
  onThrottle((waitMs) => say(`The server asked to slow down; going on in ${Math.ceil(waitMs / 1000)} s.`));
  // every queued file goes into the folder the list shows; a folder upload keeps its relative path
  const where = (file) => ({ folder_id: place.id, relative_path: relativePathOf(file) });
  const input = $("file-input");
  input.onchange = () => {
    uploader.add([...input.files], where);
    input.value = "";
  };
  const folderInput = $("folder-input");
  folderInput.onchange = () => {
    uploader.add([...folderInput.files], where);
    folderInput.value = "";
  };
  $("upload").onclick = () => {
    if (!uploader.uppy.getFiles().length) {
      say("Choose or drop files to upload first.", "error");
      return;
    }
    uploader.start().catch(showError);
  };
  const zone = $("dropzone");
  zone.ondragover = (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  };
  zone.ondragleave = () => zone.classList.remove("over");
  zone.ondrop = (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    // a drop starts at once: dropping is the choice and the go in one gesture
    droppedFiles(ev.dataTransfer).then((files) => {
      uploader.add(files, where);
      return uploader.start();
    }).catch(showError);
  };
  const earlier = resumableUploads(owner);
  if (earlier.length) {
    say(`Unfinished upload${earlier.length > 1 ? "s" : ""}: ${earlier.map((u) => u.name).join(", ")}. `
      + "Choose the same file again and press Upload to resume where it stopped.");
  }
  window.fileshareForgetUpload = forgetResumable; // for support: drop a stale resume record
  // for the browser tests and support: each upload's state (bytes, rate, status) by Uppy file id
  window.fileshareUploadState = () => Object.fromEntries(uploader ? uploader.state : []);
}

function markProcessed(items) {
  const done = [];
  for (const file of items) {
    const uppyId = uploadedFiles.get(file.file_id);
    if (uppyId && file.status !== "pending") {
      const info = uploader.state.get(uppyId);
      if (info && info.status === "processing") {
        info.status = file.status === "ready" ? "ready" : "rejected";
        renderQueueItem(uppyId);
        done.push(file);
      }
    }
  }
  const rejected = done.filter((f) => f.status !== "ready");
  if (done.length === 1) say(`${done[0].name} is ${done[0].status}.`, rejected.length ? "error" : "info");
  else if (rejected.length) say(`${done.length - rejected.length} files are ready; ${rejected.length} rejected.`, "error");
  else if (done.length) say(`${done.length} files are ready.`);
  return done.length;
}

// Readiness of the files this page uploaded: one GET /files/status per hundred of them while any is
// being checked (the file list shows one folder's first page; uploads land in many).
let statusTimer = null;

function pollUploadsSoon(delay = LIST_POLL_MS) {
  if (!statusTimer) statusTimer = setTimeout(() => pollUploads().catch(showError), delay);
}

async function pollUploads() {
  statusTimer = null;
  if (pushUp()) { // the socket brings each status (and replays what a drop missed): ask nothing, look again later
    pollUploadsSoon();
    return;
  }
  const checking = [...uploadedFiles].filter(([, uppyId]) => uploader.state.get(uppyId)?.status === "processing")
    .map(([fileId]) => fileId);
  const done = [];
  for (let i = 0; i < checking.length; i += STATUS_BATCH) {
    const query = checking.slice(i, i + STATUS_BATCH).map((id) => `file_id=${encodeURIComponent(id)}`).join("&");
    done.push(...(await api("GET", `/files/status?${query}`)).items.filter((f) => f.status !== "pending"));
  }
  if (markProcessed(done) && currentView === "files") refreshSoon();
  if (checking.length > done.length) pollUploadsSoon();
}

// Many uploads finishing at once ask for one list refresh, not one each.
let refreshQueued = null;

function refreshSoon() {
  if (refreshQueued) return;
  refreshQueued = setTimeout(() => {
    refreshQueued = null;
    refreshFiles().catch(showError);
  }, REFRESH_COALESCE_MS);
}

// ---- the file list, search, live status ------------------------------------------------------

let listTimer = null;
let searching = null; // the active search parameters, or null for the plain list

function thumb(file) {
  if (file.thumbnail_url) return el("img", { src: file.thumbnail_url, alt: "", class: "thumb" });
  const kind = (file.content_type || "").split("/")[0];
  return el("span", { class: `thumb icon ${kind}`, "aria-hidden": "true", text: kind === "image" ? "IMG"
    : file.content_type === "application/pdf" ? "PDF" : "FILE" });
}

async function download(fileId) {
  const { url } = await api("GET", `/files/${fileId}/download`);
  const a = el("a", { href: url, download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

function actionButton(label, nameId, handler, extra = {}) {
  return el("button", { type: "button", class: extra.class || "secondary", "aria-describedby": nameId,
                        onclick: () => Promise.resolve(handler()).catch(showError) }, label);
}

function fileRow(file) {
  const nameId = `name-${file.file_id}`;
  const ready = file.status === "ready";
  return el("tr", { "data-file-id": file.file_id },
    el("td", {}, thumb(file)),
    el("td", {}, selectBox(file, nameId), el("span", { id: nameId, class: "fname", text: file.name })),
    el("td", { text: formatSize(file.size) }),
    el("td", {}, el("span", { class: `status ${file.status}`, text: file.status })),
    el("td", { class: "tags", text: (file.tags || []).join(", ") }),
    el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
      actionButton("Details", nameId, () => openDetails(file)),
      ready ? actionButton("Download", nameId, () => download(file.file_id)) : null,
      searching ? null : actionButton("Rename or move", nameId, () => openMove({ file })),
      actionButton("Move to trash", nameId, async () => {
        await api("DELETE", `/files/${file.file_id}`);
        say(`${file.name} moved to the trash.`);
        await refreshFiles();
      }))));
}

async function refreshFiles() {
  clearTimeout(listTimer);
  const body = $("files-body");
  let items;
  let folders = [];
  if (searching) {
    const query = new URLSearchParams(Object.entries(searching).filter(([, v]) => v));
    items = (await api("GET", `/search?${query}`)).items;
    $("search-summary").hidden = false;
    $("search-summary").textContent = `${items.length} result${items.length === 1 ? "" : "s"}`;
  } else {
    const listing = await listFolder();
    items = listing.items.filter((i) => i.kind === "file").map((i) => i.file);
    folders = listing.items.filter((i) => i.kind === "folder").map((i) => i.folder);
    $("search-summary").hidden = true;
  }
  $("crumbs").hidden = Boolean(searching);
  $("folder-form").hidden = Boolean(searching);
  const rows = [...folders.map(folderRow), ...items.map(fileRow)];
  body.replaceChildren(...(rows.length ? rows
    : [el("tr", { class: "empty" }, el("td", { colspan: "6", text: searching ? "No matches."
      : place.id ? "This folder is empty." : "No files yet." }))]));
  markProcessed(items);
  const waiting = items.some((f) => f.status === "pending")
    || [...uploader.state.values()].some((s) => s.status === "processing");
  if (waiting && currentView === "files" && !pushUp()) { // pushes bring statuses while the socket is up
    listTimer = setTimeout(() => refreshFiles().catch(showError), LIST_POLL_MS);
  }
  refreshQuota().catch(() => {});
}

// ---- folders ------------------------------------------------------------------------------------

async function listFolder() {
  let listing;
  try {
    listing = await api("GET", listingPath());
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404) || !place.id) throw err;
    place.id = null; // the folder went away (trashed, or its share revoked): back to the top
    listing = await api("GET", listingPath());
  }
  place.path = listing.folder ? listing.folder.path : [];
  place.subfolders = listing.items.filter((i) => i.kind === "folder").map((i) => i.folder);
  renderCrumbs($("crumbs"), el, openFolder);
  return listing;
}

function openFolder(folderId) {
  place.id = folderId;
  refreshFiles().catch(showError);
  $("files-title").focus?.();
}

function folderRow(folder) {
  const nameId = `folder-${folder.folder_id}`;
  return el("tr", { "data-folder-id": folder.folder_id, class: "folder-row" },
    el("td", {}, el("span", { class: "thumb icon folder", "aria-hidden": "true", text: "DIR" })),
    el("td", {}, el("a", { id: nameId, href: "#files", class: "fname",
                           onclick: (ev) => { ev.preventDefault(); openFolder(folder.folder_id); },
                           text: folder.name })),
    el("td", { text: "folder" }),
    el("td", {}),
    el("td", {}),
    el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
      actionButton("Rename or move", nameId, () => openMove({ folder })),
      actionButton("Share", nameId, () => openFolderShares(folder)),
      actionButton("Zip", nameId, () => zipFolder(folder)),
      actionButton("Move to trash", nameId, async () => {
        await untilDone(() => api("DELETE", `/folders/${folder.folder_id}`), (r) => r.done); // large: resume
        say(`${folder.name} moved to the trash.`);
        await refreshFiles();
      }))));
}

let moving = null; // {file} or {folder} while the rename/move dialog is open

function openMove(item) {
  moving = item;
  const current = item.file ? item.file.folder_id : item.folder.parent_id;
  const own = item.folder ? item.folder.folder_id : null;
  $("move-name").value = (item.file || item.folder).name;
  $("move-title").textContent = `Rename or move ${(item.file || item.folder).name}`;
  $("move-target").replaceChildren(...moveTargets(own).map((t) => el("option",
    { value: t.id, selected: (t.id || null) === (current || null), text: t.label })));
  $("move-dialog").showModal();
}

let sharingFolder = null;

async function refreshFolderShares() {
  const { items } = await api("GET", `/folders/${sharingFolder.folder_id}/shares`);
  $("folder-shares").replaceChildren(...items.map((share) => el("li", {},
    el("span", { id: `folder-share-${share.share_id}`, text: share.email }),
    el("button", { type: "button", class: "secondary", "aria-describedby": `folder-share-${share.share_id}`,
                   onclick: () => api("DELETE", `/folders/${sharingFolder.folder_id}/shares?share_id=${share.share_id}`)
                     .then(() => say(`${share.email} no longer sees ${sharingFolder.name}.`))
                     .then(refreshFolderShares).catch(showError) }, "Revoke"))));
}

function openFolderShares(folder) {
  sharingFolder = folder;
  $("folder-share-title").textContent = `Share ${folder.name}`;
  $("folder-shares").replaceChildren();
  $("folder-share-dialog").showModal();
  refreshFolderShares().catch(showError);
}

function wireFolders() {
  $("folder-share-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email } = form(ev.target);
    try {
      await api("POST", `/folders/${sharingFolder.folder_id}/shares`, { email, permission: "viewer" });
      ev.target.reset();
      say(`Shared ${sharingFolder.name} with ${email}.`);
      await refreshFolderShares();
    } catch (err) {
      showError(err);
    }
  });
  $("folder-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { name } = form(ev.target);
    if (!name.trim()) {
      say("Give the folder a name.", "error");
      return;
    }
    try {
      await api("POST", "/folders", { name, ...(place.id ? { parent_id: place.id } : {}) });
      ev.target.reset();
      say(`Created folder ${name}.`);
      await refreshFiles();
    } catch (err) {
      showError(err);
    }
  });
  $("move-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { name, target } = form(ev.target);
    const to = target || null;
    try {
      if (moving.file) await api("PATCH", `/files/${moving.file.file_id}`, { name, folder_id: to });
      else await api("PATCH", `/folders/${moving.folder.folder_id}`, { name, parent_id: to });
      say(`Saved ${name}.`);
      $("move-dialog").close();
      await refreshFiles();
    } catch (err) {
      showError(err);
    }
  });
}

function wireSearch() {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const values = form(ev.target);
    searching = {
      q: values.q.trim(), type: values.type, tag: values.tag.trim(),
      from: values.from ? new Date(`${values.from}T00:00:00`).toISOString() : "",
      to: values.to ? new Date(`${values.to}T23:59:59.999`).toISOString() : "",
    };
    if (!Object.values(searching).some(Boolean)) searching = null;
    refreshFiles().catch(showError);
  });
  $("search-clear").addEventListener("click", () => {
    $("search-form").reset();
    searching = null;
    refreshFiles().catch(showError);
  });
}

async function refreshQuota() {
  const me = await api("GET", "/me");
  $("quota").max = me.quota_bytes;
  $("quota").value = me.used_bytes;
  $("quota-text").textContent = `${formatSize(me.used_bytes)} of ${formatSize(me.quota_bytes)}`;
}

// ---- one file: preview, rename/tags, shares, links ---------------------------------------------

let detailsFile = null;

async function showPreview(file) {
  const box = $("preview");
  box.replaceChildren();
  if (file.status !== "ready") {
    box.append(el("p", { class: "hint", text: `No preview: the file is ${file.status}.` }));
    return;
  }
  const type = file.content_type || "";
  if (!type.startsWith("image/") && type !== "application/pdf") {
    box.append(el("p", { class: "hint", text: "No preview for this type." }));
    return;
  }
  const { url } = await api("GET", `/files/${file.file_id}/download`);
  if (type === "image/svg+xml") {
    // S3 serves SVG inert (application/octet-stream); as an <img> it runs no script, so show it so.
    const response = await fetch(url);
    if (!response.ok) throw new Error(`Preview failed (HTTP ${response.status}).`);
    const blob = new Blob([await response.arrayBuffer()], { type: "image/svg+xml" });
    box.append(el("img", { src: URL.createObjectURL(blob), alt: `Preview of ${file.name}`,
                           class: "preview-image" }));
  } else if (type.startsWith("image/")) {
    box.append(el("img", { src: url, alt: `Preview of ${file.name}`, class: "preview-image" }));
  } else {
    // The download URL says "attachment"; fetch the bytes (CORS GET from S3) to show them inline.
    const response = await fetch(url);
    if (!response.ok) throw new Error(`Preview failed (HTTP ${response.status}).`);
    const blob = new Blob([await response.arrayBuffer()], { type: "application/pdf" });
    box.append(el("iframe", { src: URL.createObjectURL(blob), title: `Preview of ${file.name}`,
                              class: "preview-pdf" }));
  }
}

async function refreshShares() {
  const { items } = await api("GET", `/files/${detailsFile.file_id}/shares`);
  $("shares").replaceChildren(...items.map((share) => {
    const id = `share-${share.share_id}`;
    return el("li", {}, el("span", { id, text: share.email }),
      actionButton("Revoke", id, async () => {
        await api("DELETE", `/files/${detailsFile.file_id}/shares/${share.share_id}`);
        say(`${share.email} no longer has access.`);
        await refreshShares();
      }));
  }));
}

async function refreshLinks() {
  const { items } = await api("GET", `/files/${detailsFile.file_id}/links`);
  $("links").replaceChildren(...items.map((link) => {
    const id = `link-${link.link_id}`;
    const facts = [
      link.expires_at ? `expires ${formatDate(link.expires_at)}` : "no expiry",
      link.has_password ? "password" : "no password",
      `${link.downloads}${link.max_downloads ? ` of ${link.max_downloads}` : ""} downloads`,
    ];
    return el("li", { "data-link-id": link.link_id },
      el("span", { id, text: `Link from ${formatDate(link.created_at)}: ${facts.join(", ")}` }),
      actionButton("Revoke link", id, async () => {
        await api("DELETE", `/links/${link.link_id}`);
        say("Link revoked.");
        await refreshLinks();
      }));
  }));
}

/** The file's current version changed (a new one, or another made current): show what it is now. */
async function versionChanged() {
  if (!detailsFile) return;
  try {
    const file = await api("GET", `/files/${detailsFile.file_id}`);
    if (!detailsFile || file.file_id !== detailsFile.file_id) return;
    detailsFile = file;
    $("details-title").textContent = file.name;
    $("edit-name").value = file.name;
    await Promise.all([showPreview(file).catch(showError), showActivity(file.file_id).catch(showError)]);
  } catch (err) {
    showError(err);
  }
}

async function openDetails(file) {
  detailsFile = file;
  $("details-title").textContent = file.name;
  $("edit-name").value = file.name;
  $("edit-tags").value = (file.tags || []).join(", ");
  $("new-link").hidden = true;
  $("link-form").reset();
  $("share-form").reset();
  const mine = currentView === "files";
  $("details-owner").hidden = !mine;
  $("details").showModal();
  await Promise.all([showPreview(file).catch(showError), mine ? refreshShares() : null,
                     mine ? refreshLinks() : null, mine ? showActivity(file.file_id).catch(showError) : null,
                     mine ? showVersions(file.file_id).catch(showError) : null]);
}

function wireDetails() {
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  }
  $("details").addEventListener("close", () => {
    detailsFile = null;
    $("preview").replaceChildren();
    refreshCurrent();
  });
  $("edit-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { name, tags } = form(ev.target);
    try {
      const updated = await api("PATCH", `/files/${detailsFile.file_id}`, {
        name, tags: tags.split(",").map((t) => t.trim()).filter(Boolean),
      });
      detailsFile = updated;
      $("details-title").textContent = updated.name;
      say(`Saved ${updated.name}.`);
    } catch (err) {
      showError(err);
    }
  });
  $("share-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { email } = form(ev.target);
    try {
      await api("POST", `/files/${detailsFile.file_id}/shares`, { email, permission: "viewer" });
      say(`Shared with ${email}.`);
      ev.target.reset();
      await refreshShares();
    } catch (err) {
      showError(err);
    }
  });
  $("link-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values = form(ev.target);
    const body = {};
    if (values.expires_in) body.expires_in = Number(values.expires_in);
    if (values.password) body.password = values.password;
    if (values.max_downloads) body.max_downloads = Number(values.max_downloads);
    try {
      const link = await api("POST", `/files/${detailsFile.file_id}/links`, body);
      const url = new URL(link.url, window.location.origin).href;
      $("new-link-url").value = url;
      $("new-link").hidden = false;
      say("Link created.");
      await refreshLinks();
    } catch (err) {
      showError(err);
    }
  });
  $("copy-link").addEventListener("click", async () => {
    const url = $("new-link-url").value;
    try {
      await navigator.clipboard.writeText(url);
      say("Link copied.");
    } catch {
      $("new-link-url").select();
      say("Select and copy the link (the clipboard is not available here).");
    }
  });
}

// ---- shared with me, trash ---------------------------------------------------------------------

/** Every folder shared with me ("shared") or in my trash ("trashed"), page by page (at most 1000). */
async function allFolders(which) {
  const folders = [];
  let cursor = null;
  for (let page = 0; page < 10; page += 1) {
    const query = `${which}=true&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const reply = await api("GET", `/folders?${query}`);
    folders.push(...reply.items.map((i) => i.folder));
    cursor = reply.next_cursor;
    if (!cursor) break;
  }
  return folders;
}

async function refreshShared() {
  const { items } = await api("GET", "/shared-with-me");
  const sharedFolders = await allFolders("shared");
  const folderRows = sharedFolders.map((folder) => {
    const nameId = `shared-folder-${folder.folder_id}`;
    return el("tr", { "data-folder-id": folder.folder_id, class: "folder-row" },
      el("td", {}, el("span", { class: "thumb icon folder", "aria-hidden": "true", text: "DIR" })),
      el("td", {}, el("a", { id: nameId, href: "#files", class: "fname", text: folder.name,
                             onclick: () => { place.id = folder.folder_id; } })),
      el("td", { text: "folder" }),
      el("td", {}),
      el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
        actionButton("Zip", nameId, () => zipFolder(folder)))));
  });
  const fileRows = items.map((file) => {
    const nameId = `shared-${file.file_id}`;
    return el("tr", { "data-file-id": file.file_id },
      el("td", {}, thumb(file)),
      el("td", {}, selectBox(file, nameId), el("span", { id: nameId, text: file.name })),
      el("td", { text: formatSize(file.size) }),
      el("td", { text: formatDate(file.created_at) }),
      el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
        actionButton("Preview", nameId, () => openDetails(file)),
        file.status === "ready" ? actionButton("Download", nameId, () => download(file.file_id)) : null)));
  });
  const rows = [...folderRows, ...fileRows];
  $("shared-body").replaceChildren(...(rows.length ? rows
    : [el("tr", { class: "empty" }, el("td", { colspan: "5", text: "Nothing is shared with you yet." }))]));
}

/** Repeat a whole-folder operation until its batches are done (a large folder takes several calls). */
async function untilDone(call, done) {
  let reply = await call();
  while (!done(reply)) reply = await call();
  return reply;
}

async function refreshTrash() {
  const { items } = await api("GET", "/trash");
  const trashedFolders = await allFolders("trashed");
  const folderRows = trashedFolders.map((folder) => {
    const nameId = `trash-folder-${folder.folder_id}`;
    const path = `/folders/${folder.folder_id}`;
    return el("tr", { "data-folder-id": folder.folder_id, class: "folder-row" },
      el("td", {}, el("span", { id: nameId, text: `${folder.name} (folder)` })),
      el("td", { text: "folder" }),
      el("td", {}),
      el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
        actionButton("Restore", nameId, async () => {
          await untilDone(() => api("PATCH", path, { trashed: false }), (f) => !f.pending_op);
          say(`${folder.name} restored.`);
          await refreshTrash();
        }),
        actionButton("Delete forever", nameId, async () => {
          if (!window.confirm(`Delete ${folder.name} and everything in it forever? This cannot be undone.`)) return;
          await untilDone(() => api("DELETE", `${path}?permanent=true`), (r) => r.done);
          say(`${folder.name} deleted forever.`);
          await refreshTrash();
        }, { class: "danger" }))));
  });
  // GET /trash leaves out files in a trashed folder (at any depth): its row stands for them
  const fileRows = items.map((file) => {
    const nameId = `trash-${file.file_id}`;
    return el("tr", { "data-file-id": file.file_id },
      el("td", {}, el("span", { id: nameId, text: file.name })),
      el("td", { text: formatSize(file.size) }),
      el("td", { text: formatDate(file.trashed_at) }),
      el("td", { class: "actions-cell" }, el("div", { class: "row-actions" },
        actionButton("Restore", nameId, async () => {
          await api("POST", `/files/${file.file_id}/restore`);
          say(`${file.name} restored.`);
          await refreshTrash();
        }),
        actionButton("Delete forever", nameId, async () => {
          if (!window.confirm(`Delete ${file.name} forever? This cannot be undone.`)) return;
          await api("DELETE", `/trash/${file.file_id}`);
          say(`${file.name} deleted forever.`);
          await refreshTrash();
        }, { class: "danger" }))));
  });
  const rows = [...folderRows, ...fileRows];
  $("trash-body").replaceChildren(...(rows.length ? rows
    : [el("tr", { class: "empty" }, el("td", { colspan: "4", text: "The trash is empty." }))]));
}

// ---- notifications ---------------------------------------------------------------------------

let notifyTimer = null;

async function refreshUnread() {
  clearTimeout(notifyTimer);
  if (!session()) return;
  try {
    const { items } = await api("GET", "/notifications?unread=true&limit=100");
    $("unread-count").textContent = String(items.length);
    $("notifications-button").setAttribute("aria-label", `Notifications, ${items.length} unread`);
  } finally {
    if (!pushUp()) notifyTimer = setTimeout(() => refreshUnread().catch(() => {}), NOTIFY_POLL_MS);
  }
}

// ---- pushed changes (push.js) --------------------------------------------------------------------

let pushRefresh = null;

/** Refresh the current view once, shortly: a change to a row the page does not show (a file uploaded
 * from another tab, a new share) needs the whole row, which the push does not carry. */
function refreshViewSoon() {
  clearTimeout(pushRefresh);
  pushRefresh = setTimeout(() => refreshCurrent(), 300);
}

function applyPush(change) {
  if (change.notice) {
    const unread = Number($("unread-count").textContent) + 1;
    $("unread-count").textContent = String(unread);
    $("notifications-button").setAttribute("aria-label", `Notifications, ${unread} unread`);
  }
  if (change.event.startsWith("archive.") || change.event.startsWith("zip.")) {
    refreshArchives().catch(() => {});
    return;
  }
  if (change.event.startsWith("share.") && currentView === "shared") {
    refreshViewSoon();
    return;
  }
  if (!change.event.startsWith("file.")) return;
  if (change.status) markProcessed([{ file_id: change.file_id, status: change.status, name: change.name }]);
  const row = document.querySelector(`#files-body tr[data-file-id="${change.file_id}"]`)
    || document.querySelector(`#shared-body tr[data-file-id="${change.file_id}"]`);
  if (row && change.status === "ready" && row.querySelector(".status.pending")) {
    refreshViewSoon(); // a new upload became ready: its row gains a thumbnail, a size, a Download button
  } else if (row && change.status && change.status !== "ready") {
    if (["trashed", "deleted"].includes(change.status)) row.remove();
    else {
      const status = row.querySelector(".status");
      if (status) { status.className = `status ${change.status}`; status.textContent = change.status; }
    }
  } else if (row && change.name) {
    const name = row.querySelector(".fname");
    if (name) name.textContent = change.name;
  } else if (!row && change.status) {
    refreshViewSoon();
  }
}

function pushState(isUp) {
  document.documentElement.dataset.push = isUp ? "up" : "down"; // for the browser tests
  if (isUp) { // the socket brings changes now: stop polling
    clearTimeout(listTimer);
    clearTimeout(notifyTimer);
  } else { // down: poll until it is back
    refreshUnread().catch(() => {});
    refreshCurrent();
  }
}

async function refreshNotifications() {
  const { items } = await api("GET", "/notifications?limit=50");
  $("notifications-list").replaceChildren(...(items.length ? items.map((n) => {
    const id = `note-${n.notification_id}`;
    return el("li", { class: n.read ? "read" : "unread" },
      el("span", { id }, el("strong", { text: n.read ? "" : "New: " }), n.message,
        el("small", { text: ` ${formatDate(n.created_at)}` })),
      n.read ? null : actionButton("Mark read", id, async () => {
        await api("POST", `/notifications/${n.notification_id}/read`);
        await Promise.all([refreshNotifications(), refreshUnread()]);
      }));
  }) : [el("li", { text: "No notifications." })]));
  return items;
}

function wireNotifications() {
  $("notifications-button").addEventListener("click", async () => {
    $("notifications").showModal();
    await refreshNotifications().catch(showError);
  });
  $("mark-all-read").addEventListener("click", async () => {
    try {
      const items = await refreshNotifications();
      await Promise.all(items.filter((n) => !n.read)
        .map((n) => api("POST", `/notifications/${n.notification_id}/read`)));
      await Promise.all([refreshNotifications(), refreshUnread()]);
    } catch (err) {
      showError(err);
    }
  });
}

// ---- views and start-up ----------------------------------------------------------------------

let currentView = "files";

function refreshCurrent() {
  const work = { files: refreshFiles, shared: refreshShared, trash: refreshTrash }[currentView];
  return work().catch(showError);
}

function showView(view) {
  currentView = ["files", "shared", "trash"].includes(view) ? view : "files";
  for (const name of ["files", "shared", "trash"]) {
    $(`view-${name}`).hidden = name !== currentView;
    const tab = $(`tab-${name}`);
    if (name === currentView) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  refreshCurrent();
}

function showSignedIn(tokens) {
  const signedIn = Boolean(tokens && tokens.id_token);
  $("auth").hidden = signedIn;
  $("files-app").hidden = !signedIn;
  $("session").hidden = !signedIn;
  $("session-email").textContent = signedIn ? tokens.email || "" : "";
  clearTimeout(listTimer);
  clearTimeout(notifyTimer);
  if (signedIn) {
    if (!uploader) wireUploads(tokens.email);
    showView(window.location.hash.slice(1));
    refreshUnread().catch(() => {});
    refreshArchives().catch(() => {});
    startPush({ change: applyPush, reload: () => { refreshUnread().catch(() => {}); refreshCurrent(); },
                state: pushState });
    if (linkedArchive) showArchive(linkedArchive); // the emailed "your ZIP is ready" link
    linkedArchive = null;
  } else {
    stopPush();
    stopArchives();
    if (uploader) {
      uploader.uppy.cancelAll();
      uploader = null;
      $("queue").replaceChildren();
    }
    authMode("login");
  }
}

let linkedArchive = null;

function start() {
  linkedArchive = wireArchives({ el, say, showError, formatSize });
  wireAuth();
  wireSearch();
  wireDetails();
  wireNotifications();
  wireActivity(say, showError);
  wireVersions({ say, showError, formatSize, changed: versionChanged });
  wireFolders();
  window.addEventListener("hashchange", () => {
    if (session()) showView(window.location.hash.slice(1));
  });
  onSessionChange((tokens) => {
    const wasIn = !$("files-app").hidden;
    if (wasIn !== Boolean(tokens)) showSignedIn(tokens);
    else if (tokens) $("session-email").textContent = tokens.email || "";
  });
  showSignedIn(session());
  window.fileshareRefreshTokens = refresh; // the browser tests force a silent refresh with this
}

start();
