// Folders on the page: where the file list is (the current folder and its breadcrumbs), folder
// rows, the rename/move dialog, and folder uploads that keep relative paths (a chosen directory's
// webkitRelativePath, or a dropped directory walked with webkitGetAsEntry). The server creates the
// missing folders from each file's relative_path (POST /files), so nothing here creates folders
// one by one before uploading.

export const place = { id: null, path: [], subfolders: [] }; // the folder the file list shows

/** The path below the chosen or dropped top folder, e.g. "Trip/day 1/a.jpg" (null: a plain file). */
export function relativePathOf(file) {
  const path = file.webkitRelativePath || file.fileshareRelativePath || "";
  return path.includes("/") ? path : null;
}

/** Every file of a drop, directories walked; dropped files keep their path in fileshareRelativePath. */
export async function droppedFiles(dataTransfer) {
  const entries = [...(dataTransfer?.items || [])].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry())
    .filter(Boolean);
  if (!entries.length) return [...(dataTransfer?.files || [])];
  const out = [];
  async function walk(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      if (prefix) file.fileshareRelativePath = `${prefix}${file.name}`;
      out.push(file);
      return;
    }
    const reader = entry.createReader();
    for (;;) { // readEntries answers in chunks until it returns none
      const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (!chunk.length) break;
      for (const child of chunk) await walk(child, `${prefix}${entry.name}/`);
    }
  }
  for (const entry of entries) await walk(entry, "");
  return out;
}

/** The listing URL of the current folder. */
export function listingPath() {
  return `/folders?limit=100${place.id ? `&folder_id=${encodeURIComponent(place.id)}` : ""}`;
}

/** The breadcrumbs: "Home" (the root), then each folder; the last one is the current page. */
export function renderCrumbs(nav, el, go) {
  const crumbs = [{ folder_id: null, name: "Home" }, ...place.path];
  nav.replaceChildren(el("ol", {}, ...crumbs.map((c, i) => el("li", {},
    i === crumbs.length - 1
      ? el("span", { "aria-current": "page", text: c.name })
      : el("a", { href: "#files", onclick: (ev) => { ev.preventDefault(); go(c.folder_id); }, text: c.name })))));
}

/** Where an item may move from here: the root, the parent, and the current folder's subfolders. */
export function moveTargets(itemFolderId) {
  const targets = [{ id: "", label: "My files (top level)" }];
  if (place.path.length > 1) {
    const parent = place.path[place.path.length - 2];
    targets.push({ id: parent.folder_id, label: `${parent.name} (up one level)` });
  }
  if (place.id) targets.push({ id: place.id, label: `${place.path[place.path.length - 1].name} (here)` });
  for (const f of place.subfolders) {
    if (f.folder_id !== itemFolderId) targets.push({ id: f.folder_id, label: f.name });
  }
  return targets;
}
