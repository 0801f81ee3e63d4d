// The public link page's script (fileshare/links/page.py): served with the web app, so the page runs
// under a CSP without inline script. A locked page (a link with a password) asks the page again
// with the password and swaps in the unlocked card; Download then asks for the presigned URL.
(() => {
  // The token is the last path segment of /s/<token>: no inline script carries it.
  const token = decodeURIComponent(window.location.pathname.split("/").pop());
  const link = `/s/${encodeURIComponent(token)}`;
  let password = null;
  const say = (text, kind = "muted") => {
    const status = document.getElementById("status");
    status.className = kind;
    status.textContent = text;
  };
  async function unlock() {
    const given = document.getElementById("link-password").value;
    say("Checking the password...");
    try {
      const response = await fetch(link, { headers: { Accept: "text/html", "X-Link-Password": given } });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!response.ok) {
        const reason = page.getElementById("status");
        throw new Error((reason && reason.textContent) || `HTTP ${response.status}`);
      }
      password = given;
      document.title = page.title;
      document.querySelector(".card").replaceWith(page.querySelector(".card"));
      document.querySelector("#download-form button").focus();
    } catch (err) {
      say(`Cannot unlock: ${err.message}`, "error");
    }
  }
  async function download() {
    say("Preparing the download...");
    const headers = { Accept: "application/json" };
    if (password !== null) headers["X-Link-Password"] = password;
    try {
      const response = await fetch(`${link}?download=1`, { headers });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
      say("Your download has started.");
      window.location.assign(body.url);
    } catch (err) {
      say(`Cannot download: ${err.message}`, "error");
    }
  }
  document.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (ev.target.id === "unlock-form") unlock(); else download();
  });
})();
