// The public link page's Download button (fileshare/link_page.py): served with the web app, so
// the page runs under a CSP without inline script.
(() => {
  // The token is the last path segment of /s/<token>: no inline script carries it.
  const token = decodeURIComponent(window.location.pathname.split("/").pop());
  const form = document.getElementById("download-form");
  const status = document.getElementById("status");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    status.className = "muted";
    status.textContent = "Preparing the download...";
    const headers = { Accept: "application/json" };
    const password = document.getElementById("link-password");
    if (password) headers["X-Link-Password"] = password.value;
    try {
      const response = await fetch(`/s/${encodeURIComponent(token)}?download=1`, { headers });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
      status.textContent = "Your download has started.";
      window.location.assign(body.url);
    } catch (err) {
      status.className = "error";
      status.textContent = `Cannot download: ${err.message}`;
    }
  });
})();
