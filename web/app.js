// Fileshare's minimal web page: log in, upload straight to S3 with a presigned request, list files.
// API calls are same-origin (the gateway serves this page); only the upload itself goes to S3.
"use strict";

(() => {
  const TOKENS_KEY = "fileshare.tokens";
  const POLL_MS = 500;
  const POLL_LIMIT_MS = 60000;

  const $ = (id) => document.getElementById(id);

  // ---- session: tokens live in sessionStorage (gone when the tab closes) ----
  function loadTokens() {
    try {
      return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "null");
    } catch {
      return null;
    }
  }
  let tokens = loadTokens();

  function saveTokens(next) {
    tokens = next;
    if (next) sessionStorage.setItem(TOKENS_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(TOKENS_KEY);
  }

  // ---- messages ----
  function say(text, kind = "info") {
    const box = $("message");
    box.textContent = text;
    box.className = `message ${kind}`;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.hidden = !text;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // ---- the API: JSON in, JSON out, errors from the {"error": {code, message}} envelope ----
  async function api(method, path, body, retry = true) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (tokens && tokens.id_token) headers.Authorization = `Bearer ${tokens.id_token}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network_error", `Cannot reach the server (${err.message}).`);
    }
    if (response.status === 401 && retry && tokens && tokens.refresh_token && !path.startsWith("/auth/")) {
      if (await refreshTokens()) return api(method, path, body, false);
    }
    const text = await response.text();
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
      if (data && data.message) throw new ApiError(response.status, "error", data.message);
      throw new ApiError(response.status, "http_error", `Request failed (HTTP ${response.status}).`);
    }
    return data;
  }

  async function refreshTokens() {
    try {
      const fresh = await api("POST", "/auth/refresh", { refresh_token: tokens.refresh_token }, false);
      saveTokens({ ...tokens, ...fresh, refresh_token: fresh.refresh_token || tokens.refresh_token });
      return true;
    } catch {
      signOut("Your session has expired. Please log in again.");
      return false;
    }
  }

  // ---- views ----
  function showSignedIn() {
    const signedIn = Boolean(tokens && tokens.id_token);
    $("auth").hidden = signedIn;
    $("files-app").hidden = !signedIn;
    $("session").hidden = !signedIn;
    $("session-email").textContent = signedIn ? tokens.email || "" : "";
    if (signedIn) refreshList().catch(showError);
  }

  function signOut(text) {
    saveTokens(null);
    showSignedIn();
    say(text || "");
  }

  function showError(err) {
    say(err instanceof Error ? err.message : String(err), "error");
  }

  function formatSize(bytes) {
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

  function setProgress(percent, label) {
    const value = Math.max(0, Math.min(100, Math.round(percent)));
    $("progress").value = value;
    $("progress-text").textContent = label || `${value} %`;
  }

  function renderFiles(items) {
    const body = $("files-body");
    body.replaceChildren();
    if (!items.length) {
      const row = body.insertRow();
      row.className = "empty";
      const cell = row.insertCell();
      cell.colSpan = 5;
      cell.textContent = "No files yet.";
      return;
    }
    for (const file of items) {
      const row = body.insertRow();
      row.dataset.fileId = file.file_id;
      row.insertCell().textContent = file.name;
      row.insertCell().textContent = formatSize(file.size);
      row.insertCell().textContent = file.content_type || "";
      const status = row.insertCell();
      const badge = document.createElement("span");
      badge.className = `status status-${file.status}`;
      badge.textContent = file.status;
      status.append(badge);
      const actions = row.insertCell();
      if (file.status === "ready") {
        const link = document.createElement("a");
        link.href = `/files/${encodeURIComponent(file.file_id)}/download`;
        link.className = "download";
        link.textContent = "Download";
        link.setAttribute("aria-label", `Download ${file.name}`);
        link.addEventListener("click", (event) => {
          event.preventDefault();
          download(file).catch(showError);
        });
        actions.append(link);
      }
    }
  }

  async function refreshList() {
    const data = await api("GET", "/files?limit=50");
    const items = (data && data.items) || [];
    renderFiles(items);
    return items;
  }

  async function download(file) {
    const data = await api("GET", `/files/${encodeURIComponent(file.file_id)}/download`);
    const anchor = document.createElement("a");
    anchor.href = data.url;
    anchor.rel = "noopener";
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  }

  // ---- uploads straight to S3 ----
  function s3ErrorText(xhr) {
    const xml = xhr.responseXML || (xhr.responseText && new DOMParser().parseFromString(xhr.responseText, "application/xml"));
    const code = xml && xml.querySelector && xml.querySelector("Code");
    const message = xml && xml.querySelector && xml.querySelector("Message");
    if (code || message) return `Storage refused the upload: ${code ? code.textContent : ""} ${message ? message.textContent : ""}`.trim();
    if (xhr.status === 0) return "The upload could not reach storage (network or CORS error).";
    return `Storage refused the upload (HTTP ${xhr.status}).`;
  }

  // One request to S3 with upload progress; resolves with the XHR when S3 answers 2xx.
  function sendToS3(method, url, body, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
        else reject(new Error(s3ErrorText(xhr)));
      });
      xhr.addEventListener("error", () => reject(new Error(s3ErrorText(xhr))));
      xhr.addEventListener("abort", () => reject(new Error("The upload was cancelled.")));
      xhr.send(body);
    });
  }

  async function uploadPresignedPost(file, upload) {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
    form.append("file", file); // S3 ignores every field after the file, so it goes last
    await sendToS3("POST", upload.url, form, (loaded, total) => setProgress((loaded / total) * 100));
  }

  async function uploadMultipart(file, fileId, upload) {
    const partSize = upload.part_size;
    const sent = new Map();
    const report = () => {
      let loaded = 0;
      for (const value of sent.values()) loaded += value;
      setProgress((loaded / file.size) * 100);
    };
    const done = [];
    for (const part of upload.parts) {
      const start = (part.part_number - 1) * partSize;
      const blob = file.slice(start, Math.min(start + partSize, file.size));
      const xhr = await sendToS3("PUT", part.url, blob, (loaded) => {
        sent.set(part.part_number, loaded);
        report();
      });
      sent.set(part.part_number, blob.size);
      report();
      const etag = xhr.getResponseHeader("ETag");
      if (!etag) throw new Error("Storage did not expose the part's ETag (check the bucket's CORS ExposeHeaders).");
      done.push({ part_number: part.part_number, etag });
    }
    await api("POST", `/files/${encodeURIComponent(fileId)}/complete`, { parts: done });
  }

  async function waitUntilProcessed(fileId) {
    const deadline = Date.now() + POLL_LIMIT_MS;
    while (Date.now() < deadline) {
      const items = await refreshList();
      const file = items.find((item) => item.file_id === fileId);
      if (file && file.status !== "pending") return file;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return null;
  }

  async function onUpload(event) {
    event.preventDefault();
    const input = $("file");
    const file = input.files && input.files[0];
    if (!file) {
      say("Choose a file first.", "error");
      input.focus();
      return;
    }
    const button = $("upload");
    button.disabled = true;
    setProgress(0);
    say(`Uploading ${file.name}…`);
    try {
      const created = await api("POST", "/files", {
        name: file.name,
        size: file.size,
        content_type: file.type || "application/octet-stream",
      });
      const upload = created.upload;
      if (upload.method === "MULTIPART") await uploadMultipart(file, created.file_id, upload);
      else await uploadPresignedPost(file, upload);
      setProgress(100, "100 % uploaded");
      say(`${file.name} uploaded; processing…`);
      const processed = await waitUntilProcessed(created.file_id);
      if (!processed) say(`${file.name} is still being processed; refresh later.`);
      else if (processed.status === "ready") say(`${file.name} is ready.`, "success");
      else say(`${file.name} was ${processed.status}${processed.reason ? `: ${processed.reason}` : ""}.`, "error");
      input.value = "";
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  }

  // ---- sign-in ----
  async function onAuth(event) {
    event.preventDefault();
    const action = (event.submitter && event.submitter.dataset.action) || "login";
    const email = $("email").value.trim();
    const password = $("password").value;
    if (!email || !password) {
      say("Enter your email and password.", "error");
      return;
    }
    const buttons = [$("login"), $("register")];
    buttons.forEach((b) => (b.disabled = true));
    try {
      if (action === "register") {
        await api("POST", "/auth/register", { email, password });
        say(`Account created for ${email}. Enter the code we emailed you.`, "success");
        $("confirm-form").hidden = false;
        $("code").focus();
        return;
      }
      const fresh = await api("POST", "/auth/login", { email, password });
      saveTokens({ ...fresh, email });
      $("password").value = "";
      say("");
      showSignedIn();
    } catch (err) {
      showError(err);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  async function onConfirm(event) {
    event.preventDefault();
    const email = $("email").value.trim();
    const code = $("code").value.trim();
    try {
      await api("POST", "/auth/confirm", { email, code });
      $("confirm-form").hidden = true;
      say(`${email} is confirmed. You can log in now.`, "success");
    } catch (err) {
      showError(err);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("auth-form").addEventListener("submit", onAuth);
    $("confirm-form").addEventListener("submit", onConfirm);
    $("upload-form").addEventListener("submit", onUpload);
    $("logout").addEventListener("click", () => signOut("Logged out."));
    $("refresh").addEventListener("click", () => refreshList().catch(showError));
    showSignedIn();
  });
})();
