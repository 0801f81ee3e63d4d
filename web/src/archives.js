// "Download as ZIP": select ready files (mine and shared with me), ask for one archive
// (POST /archives), follow its progress (GET /archives/{id}) and offer the download once ready.
// The archive is built server-side by the archiver; no file byte passes through the page.
// An emailed link (?archive=<id>) opens the same status. A folder row's "Zip" asks for a ZIP of
// the whole folder (POST /archives {folder_id}). "My archives" lists my recent jobs (GET /archives),
// a failed one with its reason.
import { api } from "./api.js";
import { $ } from "./dom.js";

const POLL_MS = 1000;
const selected = new Map(); // file_id -> name, across "My files" and "Shared with me"
let pollTimer = null;
let current = null; // the archive being shown
let ui = null; // { el, say, showError, formatSize } from app.js

function updateSelection() {
  const count = selected.size;
  $("selection-count").textContent = count ? `${count} file${count === 1 ? "" : "s"} selected` : "No files selected";
  $("zip-selected").disabled = count === 0;
  $("clear-selection").disabled = count === 0;
}

/** A checkbox that adds a ready file to the selection (labelled by the file's name). */
export function selectBox(file, nameId) {
  if (file.status !== "ready") return null;
  const box = ui.el("input", { type: "checkbox", class: "select-file", "aria-labelledby": nameId,
                               "data-file-id": file.file_id, title: "Select for a ZIP" });
  box.checked = selected.has(file.file_id);
  box.addEventListener("change", () => {
    if (box.checked) selected.set(file.file_id, file.name);
    else selected.delete(file.file_id);
    updateSelection();
  });
  return box;
}

const REASONS = {
  source_missing: "a file's bytes were gone",
  source_changed: "a file changed while it was zipped",
  source_unavailable: "a file or folder is no longer available to you",
  too_large: "the folder grew past the limits",
  storage_error: "storage failed, try again",
  worker_lost: "the job stopped, try again",
};

function describe(archive) {
  const size = (n) => ui.formatSize(n);
  switch (archive.status) {
    case "queued": return `${archive.name}: waiting to start…`;
    case "running": return `${archive.name}: zipping ${archive.files_done} of ${archive.files_total} files, `
      + `${size(archive.bytes_done)} of ${size(archive.bytes_total)}`;
    case "ready": return `${archive.name} is ready (${size(archive.size)}), until ${new Date(archive.expires_at).toLocaleString()}.`;
    case "failed": return `${archive.name} failed: ${REASONS[archive.failure_reason]
      || (archive.failure_reason || "error").replaceAll("_", " ")}.`;
    default: return `${archive.name} is no longer available (${archive.status}).`;
  }
}

function render(archive) {
  $("archive-status").hidden = false;
  $("archive-text").textContent = describe(archive);
  const progress = $("archive-progress");
  progress.max = Math.max(archive.bytes_total, 1);
  progress.value = archive.status === "ready" ? progress.max : archive.bytes_done;
  progress.hidden = !["queued", "running", "ready"].includes(archive.status);
  $("archive-download").hidden = archive.status !== "ready";
}

async function poll(archiveId) {
  clearTimeout(pollTimer);
  const archive = await api("GET", `/archives/${archiveId}`);
  if (current !== archiveId) return;
  render(archive);
  if (archive.status === "queued" || archive.status === "running") {
    pollTimer = setTimeout(() => poll(archiveId).catch(ui.showError), POLL_MS);
  } else {
    if (archive.status === "ready") ui.say(`Your ZIP ${archive.name} is ready to download.`);
    refreshArchives().catch(ui.showError);
  }
}

/** "My archives": my latest jobs, newest first, each with its status (a failure with its reason). */
export async function refreshArchives() {
  const { items } = await api("GET", "/archives?limit=10");
  const rows = items.map((archive) => {
    const textId = `archive-${archive.archive_id}`;
    return ui.el("li", { "data-archive-id": archive.archive_id, "data-status": archive.status,
                         class: archive.status === "failed" ? "failed" : null },
      ui.el("span", { id: textId, text: describe(archive) }),
      archive.status === "ready"
        ? ui.el("button", { type: "button", class: "secondary", "aria-describedby": textId,
                            onclick: () => downloadArchive(archive.archive_id).catch(ui.showError) }, "Get ZIP")
        : null);
  });
  $("archive-list").replaceChildren(...(rows.length ? rows
    : [ui.el("li", { class: "empty", text: "No archives yet." })]));
}

async function requestArchive(body) {
  const archive = await api("POST", "/archives", body);
  render(archive);
  refreshArchives().catch(ui.showError);
  await showArchive(archive.archive_id);
}

/** A ZIP of a whole folder (mine, or one shared with me): every ready file below it, by path. */
export async function zipFolder(folder) {
  await requestArchive({ folder_id: folder.folder_id });
  ui.say(`Zipping ${folder.name}…`);
}

export function showArchive(archiveId) {
  current = archiveId;
  return poll(archiveId).catch(ui.showError);
}

async function downloadArchive(archiveId) {
  const { url } = await api("GET", `/archives/${archiveId}/download`);
  const a = ui.el("a", { href: url, download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

export function wireArchives(helpers) {
  ui = helpers;
  $("zip-selected").addEventListener("click", async () => {
    try {
      $("zip-selected").disabled = true;
      const fileIds = [...selected.keys()];
      selected.clear();
      for (const box of document.querySelectorAll("input.select-file")) box.checked = false;
      updateSelection();
      await requestArchive({ file_ids: fileIds });
    } catch (err) {
      ui.showError(err);
      updateSelection();
    }
  });
  $("clear-selection").addEventListener("click", () => {
    selected.clear();
    for (const box of document.querySelectorAll("input.select-file")) box.checked = false;
    updateSelection();
  });
  $("archive-download").addEventListener("click", () => downloadArchive(current).catch(ui.showError));
  updateSelection();
  const linked = new URLSearchParams(window.location.search).get("archive");
  return linked;
}

export function stopArchives() {
  clearTimeout(pollTimer);
  current = null;
  selected.clear();
  $("archive-status").hidden = true;
  $("archive-list").replaceChildren();
  updateSelection();
}
