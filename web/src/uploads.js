// Uploads with Uppy (@uppy/core + @uppy/aws-s3): several files at once, straight to S3.
//
// Uploads are started in batches (POST /files/batch, BATCH_FILES at a time: one request for a
// hundred files, so dropping a folder of a thousand never meets the per-user request limit; a 429
// is waited out as its Retry-After says). Small files use the presigned POST the batch returns. Large files go up as S3 multipart:
// parts in parallel (Uppy's shared queue, `limit`), each retried with backoff (`retryDelays`), each
// signed on demand in batches (POST /files/{id}/parts), completed with POST /files/{id}/complete.
// An upload survives a reload: its ids are kept in localStorage by the file's fingerprint (name,
// size, last change); choosing the same file again resumes it: Uppy asks GET /files/{id}/parts
// what S3 already holds and sends only the rest. Cancel aborts (DELETE /files/{id}/upload); an
// upload that failed (a dropped connection) is kept for Retry, which resumes the same way.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";
import { api } from "./api.js";

const RESUME_KEY = "fileshare.uploads";
const SIGN_BATCH = 16; // parts signed per POST /files/{id}/parts
const SIGNED_URL_REUSE_MS = 5 * 60 * 1000; // re-sign a part whose URL is older (URLs last the presign TTL)
const PARALLEL_REQUESTS = 6;
const BATCH_FILES = 100; // uploads started per POST /files/batch (the server takes up to 500)
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000]; // then the file fails and offers Retry (which resumes)
const SPEED_WINDOW_MS = 5000;
const CHECKSUM_MAX_BYTES = 64 * 1024 * 1024; // the default multipart threshold: hashed in memory

function fingerprint(file) {
  const data = file.data || {};
  return `${file.name}|${file.size}|${data.lastModified || 0}`;
}

function loadResumable() {
  try {
    return JSON.parse(localStorage.getItem(RESUME_KEY) || "{}");
  } catch {
    return {};
  }
}

function saveResumable(records) {
  localStorage.setItem(RESUME_KEY, JSON.stringify(records));
}

function remember(print, record) {
  const records = loadResumable();
  if (record) records[print] = { ...record, saved_at: Date.now() };
  else delete records[print];
  saveResumable(records);
}

/** Unfinished uploads from an earlier page (the file must be chosen again to resume). */
export function resumableUploads(owner) {
  return Object.entries(loadResumable())
    .filter(([, r]) => r.owner === owner)
    .map(([print, r]) => ({ print, ...r }));
}

export function forgetResumable(print) {
  remember(print, null);
}

/**
 * Create the uploader. `hooks.changed(fileId)` is called whenever a file's state changes
 * (progress, status), `hooks.uploaded(fileId, fileShareId)` when S3 has the bytes.
 */
async function sha256Base64(blob) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function createUploader({ owner, changed, uploaded, listChanged }) {
  const plans = new Map(); // uppy file id -> {file_id, upload, print}
  const partSizes = new WeakMap(); // the file's Blob -> the server's part size
  const signed = new Map(); // `${file_id}:${batch}` -> Promise<{at, urls: Map}>
  const cancelled = new Set();
  const speed = new Map(); // uppy file id -> [{t, bytes}]
  const checksums = new Map(); // uppy file id -> Map(part number -> SHA-256, base64)
  const state = new Map(); // uppy file id -> {status, error, bytes, total, rate, eta, resumed}

  const uppy = new Uppy({ autoProceed: false, allowMultipleUploadBatches: true });

  function setState(id, patch) {
    state.set(id, { ...(state.get(id) || {}), ...patch });
    changed(id);
  }

  function planOf(file) {
    const plan = plans.get(file.id);
    if (!plan) throw new Error(`no upload plan for ${file.name}`);
    return plan;
  }

  async function signBatch(plan, batch) {
    const first = batch * SIGN_BATCH + 1;
    const count = Math.min(SIGN_BATCH, plan.upload.part_count - first + 1);
    const numbers = Array.from({ length: count }, (_, i) => first + i);
    const reply = await api("POST", `/files/${plan.file_id}/parts`, { part_numbers: numbers });
    return { at: Date.now(), urls: new Map(reply.parts.map((p) => [p.part_number, p.url])) };
  }

  async function partUrl(plan, partNumber) {
    const batch = Math.floor((partNumber - 1) / SIGN_BATCH);
    const key = `${plan.file_id}:${batch}`;
    let entry = signed.get(key);
    if (entry) {
      try {
        const got = await entry;
        if (Date.now() - got.at < SIGNED_URL_REUSE_MS && got.urls.has(partNumber)) return got.urls.get(partNumber);
      } catch {
        // a failed signing request: sign again below
      }
    }
    entry = signBatch(plan, batch);
    signed.set(key, entry);
    entry.catch(() => signed.delete(key));
    return (await entry).urls.get(partNumber);
  }

  uppy.use(AwsS3, {
    limit: PARALLEL_REQUESTS,
    retryDelays: RETRY_DELAYS_MS,
    shouldUseMultipart: (file) => (plans.get(file.id) || {}).upload?.method === "MULTIPART",
    getChunkSize: (data) => partSizes.get(data) || 16 * 1024 * 1024,
    getUploadParameters: (file) => {
      const { upload } = planOf(file);
      return { method: "POST", url: upload.url, fields: upload.fields };
    },
    createMultipartUpload: (file) => {
      const plan = planOf(file);
      return { uploadId: plan.upload.upload_id, key: plan.file_id };
    },
    signPart: async (file, { partNumber, body }) => {
      const plan = planOf(file);
      if (plan.partChecksums) {
        // S3 checks every part against the SHA-256 signed into its URL: sign this one as it goes up.
        const checksum = await sha256Base64(body);
        (checksums.get(file.id) || checksums.set(file.id, new Map()).get(file.id)).set(partNumber, checksum);
        const reply = await api("POST", `/files/${plan.file_id}/parts`,
          { part_numbers: [partNumber], checksums: [checksum] });
        const part = reply.parts[0];
        return { method: "PUT", url: part.url, headers: part.headers || {} };
      }
      const first = (plan.upload.parts || []).find((p) => p.part_number === partNumber);
      if (first && !plan.firstUsed?.has(partNumber)) {
        (plan.firstUsed ||= new Set()).add(partNumber); // POST /files signed these; use each once
        return { method: "PUT", url: first.url };
      }
      return { method: "PUT", url: await partUrl(plan, partNumber) };
    },
    listParts: async (file) => {
      const plan = planOf(file);
      const reply = await api("GET", `/files/${plan.file_id}/parts`);
      const done = reply.parts.map((p) => ({ PartNumber: p.part_number, ETag: p.etag, Size: p.size }));
      const known = checksums.get(file.id) || checksums.set(file.id, new Map()).get(file.id);
      for (const p of reply.parts) if (p.checksum_sha256) known.set(p.part_number, p.checksum_sha256);
      setState(file.id, { skippedParts: done.length });
      return done;
    },
    completeMultipartUpload: async (file, { parts }) => {
      const plan = planOf(file);
      await api("POST", `/files/${plan.file_id}/complete`, {
        parts: parts.map((p) => {
          const checksum = plan.partChecksums ? (checksums.get(file.id) || new Map()).get(p.PartNumber) : null;
          return checksum ? { part_number: p.PartNumber, etag: p.ETag, checksum_sha256: checksum }
            : { part_number: p.PartNumber, etag: p.ETag };
        }),
      });
      return {};
    },
    abortMultipartUpload: async (file) => {
      // Only a cancel aborts; after an error the upload stays in S3 so Retry (or a reload) resumes it.
      const plan = plans.get(file.id);
      if (!plan || !cancelled.has(file.id)) return;
      remember(plan.print, null);
      await api("DELETE", `/files/${plan.file_id}/upload`).catch(() => {});
      listChanged();
    },
  });

  uppy.on("file-added", (file) => {
    setState(file.id, { name: file.name, status: "queued", bytes: 0, total: file.size });
  });

  uppy.on("upload-progress", (file, progress) => {
    if (!file) return;
    const now = performance.now();
    const samples = (speed.get(file.id) || []).filter((s) => now - s.t < SPEED_WINDOW_MS);
    samples.push({ t: now, bytes: progress.bytesUploaded });
    speed.set(file.id, samples);
    const span = (samples[samples.length - 1].t - samples[0].t) / 1000;
    const rate = span > 0.2 ? (samples[samples.length - 1].bytes - samples[0].bytes) / span : 0;
    const left = (progress.bytesTotal || file.size) - progress.bytesUploaded;
    setState(file.id, {
      status: "uploading", bytes: progress.bytesUploaded, total: progress.bytesTotal || file.size,
      rate, eta: rate > 0 ? left / rate : null,
    });
  });

  uppy.on("upload-success", (file) => {
    if (!file) return;
    const plan = plans.get(file.id);
    if (plan) remember(plan.print, null);
    setState(file.id, { status: "processing", bytes: file.size, rate: 0, eta: 0 });
    if (plan) uploaded(file.id, plan.file_id);
  });

  uppy.on("upload-error", (file, error) => {
    if (!file) return;
    setState(file.id, { status: "failed", error: error && error.message ? error.message : String(error) });
  });

  async function resume(file) {
    // A file chosen again after a reload: resume its multipart upload if S3 still has it.
    const print = fingerprint(file);
    const earlier = loadResumable()[print];
    if (!earlier || earlier.owner !== owner) return false;
    try {
      await api("GET", `/files/${earlier.file_id}/parts`);
    } catch {
      remember(print, null); // gone (completed, aborted or swept): start afresh
      return false;
    }
    const upload = { method: "MULTIPART", upload_id: earlier.upload_id, part_size: earlier.part_size,
                     part_count: earlier.part_count, parts: [] };
    plans.set(file.id, { file_id: earlier.file_id, upload, print, partChecksums: !!earlier.part_checksums });
    partSizes.set(file.data, earlier.part_size);
    uppy.setFileState(file.id, { s3Multipart: { uploadId: earlier.upload_id, key: earlier.file_id } });
    setState(file.id, { resumed: true });
    return true;
  }

  async function entryOf(file) {
    const body = { name: file.name, size: file.size, content_type: file.type || "application/octet-stream" };
    if (file.meta.folder_id) body.folder_id = file.meta.folder_id; // the folder the list showed
    if (file.meta.relative_path) body.relative_path = file.meta.relative_path; // a folder upload
    // A file that may go up in one POST is signed with its SHA-256, so S3 itself refuses other bytes.
    if (file.size <= CHECKSUM_MAX_BYTES && globalThis.crypto && crypto.subtle) {
      const digest = await crypto.subtle.digest("SHA-256", await file.data.arrayBuffer());
      body.checksum_sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    if (globalThis.crypto && crypto.subtle) body.part_checksums = true; // multipart: every part signed
    return body;
  }

  function planned(file, created) {
    const print = fingerprint(file);
    const plan = { file_id: created.file_id, upload: created.upload, print,
                   partChecksums: !!(globalThis.crypto && crypto.subtle) && created.upload.method === "MULTIPART" };
    plans.set(file.id, plan);
    if (created.upload.method === "MULTIPART") {
      partSizes.set(file.data, created.upload.part_size);
      remember(print, { owner, file_id: created.file_id, upload_id: created.upload.upload_id,
                        part_size: created.upload.part_size, part_count: created.upload.part_count,
                        part_checksums: plan.partChecksums, name: file.name, size: file.size });
    }
  }

  function refused(file, message) {
    setState(file.id, { status: "failed", error: message, refused: true });
    uppy.removeFile(file.id);
  }

  // Many uploads start with one request (POST /files/batch, up to BATCH_FILES entries): the server
  // answers each entry with its upload or its own error. A 429 is waited out (api.js honours
  // Retry-After) while the files show that they are waiting, never as a failure.
  async function startBatch(files) {
    const entries = await Promise.all(files.map(entryOf));
    const reply = await api("POST", "/files/batch", { files: entries }, {
      onThrottle: (waitMs) => {
        for (const file of files) setState(file.id, { status: "throttled", waitS: Math.ceil(waitMs / 1000) });
      },
    });
    for (const item of reply.items) {
      const file = files[item.index];
      if (item.error) refused(file, item.error.message);
      else planned(file, item);
    }
  }

  let running = Promise.resolve();

  async function startQueued() {
    const waiting = uppy.getFiles().filter((f) => !plans.has(f.id) && !f.progress.uploadComplete);
    const fresh = [];
    for (const file of waiting) {
      setState(file.id, { status: "starting", error: null });
      try {
        if (!(await resume(file))) fresh.push(file);
      } catch (err) {
        refused(file, err.message);
      }
    }
    for (let i = 0; i < fresh.length; i += BATCH_FILES) {
      const chunk = fresh.slice(i, i + BATCH_FILES);
      try {
        await startBatch(chunk);
      } catch (err) {
        for (const file of chunk) refused(file, err.message);
      }
    }
    if (waiting.length) listChanged();
    const ready = uppy.getFiles().filter((f) => plans.has(f.id) && !f.progress.uploadStarted);
    if (ready.length) await uppy.upload();
  }

  return {
    uppy,
    state,
    /** Queue files; ``where`` gives each one's folder_id and relative_path (folder uploads). */
    add(files, where = () => ({})) {
      for (const data of files) {
        try {
          uppy.addFile({ name: data.name, type: data.type, data, source: "Local", meta: where(data) });
        } catch (err) {
          // Uppy refuses a duplicate of a file already queued: nothing to do
          if (!String(err && err.message).includes("already")) throw err;
        }
      }
    },
    /** Create (or find) each queued file's upload on the server, then send all of them. Calls
     * run one after another (a drop while an earlier start is under way waits for it). */
    start() {
      running = running.catch(() => {}).then(startQueued);
      return running;
    },
    cancel(id) {
      const plan = plans.get(id);
      cancelled.add(id);
      uppy.removeFile(id);
      setState(id, { status: "cancelled", rate: 0, eta: null });
      if (plan && plan.upload.method === "POST") {
        api("DELETE", `/files/${plan.file_id}`).catch(() => {}).finally(listChanged);
      }
    },
    retry(id) {
      // Uppy forgets the multipart ids after an error; give them back so it resumes (ListParts)
      // instead of starting over.
      const plan = plans.get(id);
      if (plan && plan.upload.method === "MULTIPART") {
        uppy.setFileState(id, { s3Multipart: { uploadId: plan.upload.upload_id, key: plan.file_id } });
      }
      setState(id, { status: "uploading", error: null });
      return uppy.retryUpload(id);
    },
    file(id) {
      return uppy.getFile(id);
    },
  };
}
