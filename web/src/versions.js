// Versions (issue 14 part 3): a file's versions in its details dialog (the owner's only): upload a
// new version (as a first upload: POST /files/{id}/versions, then the bytes straight to S3 with the
// presigned POST, or as multipart parts for a large one; the processor verifies them and makes the
// version current), download one, make one current, delete one that is not current.
import { api } from "./api.js";
import { el } from "./dom.js";

const POLL_MS = 1000;
const POLL_LIMIT = 60; // how long to wait for the processor (a bound, not a timing)

let fileId = null;
let hooks = { say: () => {}, showError: () => {}, changed: () => {}, formatSize: String };

function button(label, describedBy, handler) {
  return el("button", { type: "button", class: "secondary", "aria-describedby": describedBy,
                        onclick: () => Promise.resolve(handler()).catch(hooks.showError) }, label);
}

function versionRow(version, ownFile) {
  const id = `version-${version.version_id}`;
  const facts = [hooks.formatSize(version.size), new Date(version.created_at).toLocaleString()];
  if (version.current) facts.push("current");
  if (version.status !== "ready") {
    facts.push(version.status === "rejected"
      ? `rejected${version.reject_reason ? ` (${version.reject_reason.replace(/_/g, " ")})` : ""}`
      : "processing…");
  }
  const actions = [];
  if (version.status === "ready") {
    actions.push(button("Download", id, async () => {
      const { url } = await api("GET", `/files/${ownFile}/versions/${version.version_id}/download`);
      window.location.assign(url);
    }));
  }
  if (!version.current && version.status === "ready") {
    actions.push(button("Make current", id, async () => {
      await api("POST", `/files/${ownFile}/versions/${version.version_id}/current`);
      hooks.say(`${version.name} from ${new Date(version.created_at).toLocaleString()} is current now.`);
      await refresh();
      hooks.changed();
    }));
  }
  if (!version.current) {
    actions.push(button("Delete version", id, async () => {
      await api("DELETE", `/files/${ownFile}/versions/${version.version_id}`);
      hooks.say("Version deleted.");
      await refresh();
    }));
  }
  return el("li", { "data-version-id": version.version_id, "data-status": version.status,
                    "data-current": version.current ? "true" : "false" },
    el("span", { id, text: `${version.name}: ${facts.join(", ")}` }), ...actions);
}

async function refresh() {
  const current = fileId;
  const { items } = await api("GET", `/files/${current}/versions`);
  if (current !== fileId) return items; // another file was opened meanwhile
  document.getElementById("versions").replaceChildren(...items.map((v) => versionRow(v, current)));
  return items;
}

/** Show ``id``'s versions, newest first (the details dialog of my own file). */
export function showVersions(id) {
  fileId = id;
  document.getElementById("versions").replaceChildren(el("li", { class: "empty", text: "Loading…" }));
  return refresh();
}

/** A large version as S3 multipart: each part PUT to its presigned URL (signed in batches as it
 * goes), then completed with the ETags; a failure deletes the pending version (aborting it). */
async function uploadParts(target, created, file) {
  const { upload, version_id: versionId } = created;
  const base = `/files/${target}/versions/${versionId}`;
  const urls = new Map(upload.parts.map((p) => [p.part_number, p.url]));
  const done = [];
  try {
    for (let n = 1; n <= upload.part_count; n += 1) {
      if (!urls.has(n)) {
        const numbers = [];
        for (let k = n; k <= Math.min(upload.part_count, n + 99); k += 1) numbers.push(k);
        const signed = await api("POST", `${base}/parts`, { part_numbers: numbers });
        for (const p of signed.parts) urls.set(p.part_number, p.url);
      }
      const start = (n - 1) * upload.part_size;
      const put = await fetch(urls.get(n), { method: "PUT", body: file.slice(start, start + upload.part_size) });
      if (!put.ok) throw new Error(`S3 refused part ${n} (${put.status})`);
      done.push({ part_number: n, etag: put.headers.get("ETag") });
      hooks.say(`Uploading ${file.name}: ${Math.round((100 * n) / upload.part_count)} %`);
    }
    await api("POST", `${base}/complete`, { parts: done });
  } catch (err) {
    await api("DELETE", base).catch(() => {});
    throw err;
  }
}

async function uploadVersion(file) {
  const target = fileId;
  const created = await api("POST", `/files/${target}/versions`, {
    name: file.name, size: file.size, content_type: file.type || "application/octet-stream",
  });
  if (created.upload.method === "MULTIPART") {
    await uploadParts(target, created, file);
  } else {
    const body = new FormData();
    for (const [k, v] of Object.entries(created.upload.fields)) body.append(k, v);
    body.append("file", file);
    const posted = await fetch(created.upload.url, { method: "POST", body });
    if (!posted.ok) throw new Error(`S3 refused the upload (${posted.status})`);
  }
  hooks.say(`Uploaded ${file.name}; checking it…`);
  for (let i = 0; i < POLL_LIMIT && target === fileId; i += 1) {
    const items = await refresh();
    const mine = items.find((v) => v.version_id === created.version_id);
    if (mine && mine.status === "ready") {
      hooks.say(`${file.name} is the current version now.`);
      hooks.changed();
      return;
    }
    if (mine && mine.status === "rejected") {
      hooks.say(`The new version was rejected (${(mine.reject_reason || "").replace(/_/g, " ")}); `
                + "the current one stays.", "error");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Wire the "Upload a new version" input; ``changed`` refreshes the page's lists and the dialog. */
export function wireVersions(options) {
  hooks = { ...hooks, ...options };
  const input = document.getElementById("version-input");
  input.addEventListener("change", async () => {
    const [file] = input.files;
    if (!file || !fileId) return;
    try {
      await uploadVersion(file);
    } catch (err) {
      hooks.showError(err);
    } finally {
      input.value = "";
    }
  });
}
