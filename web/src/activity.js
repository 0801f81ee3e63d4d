// Activity (issue 14 part 4): a file's feed in its details dialog (the owner's only), and the export
// of everything done to my files as CSV or JSON. The export is paged by the API (a cursor per page:
// `next_cursor` in JSON, the X-Next-Cursor header in CSV); the page fetches every page and offers
// one file to save.
import { api } from "./api.js";
import { el } from "./dom.js";

const FEED_PAGE = 20;
const EXPORT_PAGE = 1000;

/** One feed entry in words (the details are the API's; nothing here is secret). */
export function describe(item) {
  const d = item.details || {};
  const c = item.client;
  switch (item.action) {
    case "uploaded": return "Uploaded";
    case "upload_rejected": return `Upload rejected${d.reason ? ` (${String(d.reason).replace(/_/g, " ")})` : ""}`;
    case "renamed": return `Renamed to “${d.name}”`;
    case "moved": return `Moved from ${d.from_folder ? `“${d.from_folder}”` : "Home"} to `
      + `${d.to_folder ? `“${d.to_folder}”` : "Home"}${d.name ? `, renamed to “${d.name}”` : ""}`;
    case "folder_created": return "Folder created";
    case "folder_renamed": return `Folder renamed to “${d.name}”`;
    case "folder_moved": return `Folder moved to ${d.to_folder ? `“${d.to_folder}”` : "Home"}`;
    case "updated": return d.tags ? `Tags set to ${d.tags.length ? d.tags.join(", ") : "none"}` : "Details changed";
    case "content_replaced": return "Content replaced";
    case "version_added": return "New version added";
    case "version_rejected": return `New version rejected${d.reason ? ` (${String(d.reason).replace(/_/g, " ")})` : ""}`;
    case "version_made_current": return `An earlier version made current${d.name ? ` (“${d.name}”)` : ""}`;
    case "trashed": return "Moved to the trash";
    case "restored": return "Restored from the trash";
    case "deleted": return "Deleted for good";
    case "expired": return "Expired and deleted";
    case "shared": return `Shared with ${d.recipient || "a person"}`;
    case "share_revoked": return `Stopped sharing with ${d.recipient || "a person"}`;
    case "link_created": return `Public link created${d.has_password ? " (with a password)" : ""}`;
    case "link_revoked": return "Public link revoked";
    case "link_downloaded": {
      const who = c ? [`${c.browser} on ${c.os}`, c.country, c.network].filter(Boolean).join(", ") : "";
      return `Downloaded through a public link${who ? ` (${who})` : ""}`;
    }
    default: return item.action.replace(/_/g, " ");
  }
}

let feedFile = null;
let feedCursor = null;

function entry(item) {
  return el("li", { "data-action": item.action },
    el("span", { text: describe(item) }),
    el("small", {}, el("time", { datetime: item.occurred_at, text: new Date(item.occurred_at).toLocaleString() })));
}

async function loadMore() {
  const query = new URLSearchParams({ limit: String(FEED_PAGE) });
  if (feedCursor) query.set("cursor", feedCursor);
  const fileId = feedFile;
  const page = await api("GET", `/files/${fileId}/activity?${query}`);
  if (fileId !== feedFile) return; // another file was opened meanwhile
  const list = document.getElementById("activity");
  if (!feedCursor) list.replaceChildren();
  list.append(...page.items.map(entry));
  if (!list.children.length) list.append(el("li", { class: "empty", text: "Nothing yet." }));
  feedCursor = page.next_cursor;
  document.getElementById("activity-more").hidden = !feedCursor;
}

/** Show ``fileId``'s feed, newest first (the details dialog of my own file). */
export function showActivity(fileId) {
  feedFile = fileId;
  feedCursor = null;
  document.getElementById("activity").replaceChildren(el("li", { class: "empty", text: "Loading…" }));
  document.getElementById("activity-more").hidden = true;
  return loadMore();
}

function save(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function exportAll(format) {
  const stamp = new Date().toISOString().slice(0, 10);
  let cursor = null;
  if (format === "json") {
    const items = [];
    do {
      const query = new URLSearchParams({ format, limit: String(EXPORT_PAGE) });
      if (cursor) query.set("cursor", cursor);
      const page = await api("GET", `/activity/export?${query}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    save(`fileshare-activity-${stamp}.json`, "application/json", JSON.stringify({ items }, null, 2));
    return items.length;
  }
  const parts = [];
  let rows = 0;
  do {
    const query = new URLSearchParams({ format, limit: String(EXPORT_PAGE) });
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/activity/export?${query}`, undefined, { raw: true });
    // Every page starts with the header row (no cell holds a line break: names and tags have no
    // control characters, details are JSON); the file keeps the first page's.
    const body = parts.length ? page.text.slice(page.text.indexOf("\r\n") + 2) : page.text;
    parts.push(body);
    rows += (page.text.match(/\r\n/g) || []).length - 1;
    cursor = page.headers.get("X-Next-Cursor");
  } while (cursor);
  save(`fileshare-activity-${stamp}.csv`, "text/csv", parts.join(""));
  return rows;
}

/** Wire the feed's "Show more" and the export buttons; ``say``/``showError`` report to the page. */
export function wireActivity(say, showError) {
  document.getElementById("activity-more").addEventListener("click", () => loadMore().catch(showError));
  for (const format of ["csv", "json"]) {
    document.getElementById(`export-${format}`).addEventListener("click", async () => {
      try {
        const count = await exportAll(format);
        say(`Exported ${count} activit${count === 1 ? "y" : "ies"} as ${format.toUpperCase()}.`);
      } catch (err) {
        showError(err);
      }
    });
  }
}
