// The upload page: each chosen or dropped file gets a ticket from the
// console, then goes to the image processor (the ticket's upload_url), four
// at a time, with a progress bar per file and one for all. Without this
// script the form posts the files to the console itself.
"use strict";
(() => {
  const form = document.getElementById("upload");
  if (!form) return;
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const section = document.getElementById("progress");
  const list = document.getElementById("files");
  const overall = document.getElementById("overall");
  const overallText = document.getElementById("overall-text");
  const PARALLEL = 4;
  const jobs = [];
  let running = 0;
  let firstStart = 0;
  let polling = false;

  const mb = (n) => (n / 1e6).toFixed(n < 1e7 ? 1 : 0) + " MB";
  const seconds = (s) =>
    s < 90 ? Math.max(1, Math.round(s)) + " s" : Math.round(s / 60) + " min";

  // What the form says when files are added: later changes to the form
  // apply to files added later, not to those already waiting.
  function choices() {
    const f = form.elements;
    return {
      set_public_uuid: f.set_public_uuid.value,
      keywords: f.keywords.value,
      read_metadata: f.read_metadata.checked,
      metadata_profile: f.metadata_profile ? f.metadata_profile.value : "",
    };
  }

  function add(files) {
    if (!files || files.length === 0) return;
    section.hidden = false;
    const chosen = choices();
    for (const file of files) {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", "Progress of " + file.name);
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = "Waiting";
      row.append(name, bar, state);
      list.append(row);
      jobs.push({ file, chosen, row, bar, state, loaded: 0, status: "waiting", image: null, ticket: null });
    }
    pump();
  }

  function pump() {
    while (running < PARALLEL) {
      const job = jobs.find((j) => j.status === "waiting");
      if (!job) break;
      running += 1;
      if (!firstStart) firstStart = performance.now();
      run(job).finally(() => {
        running -= 1;
        pump();
      });
    }
    summary();
  }

  async function run(job) {
    job.status = "sending";
    job.loaded = 0;
    job.state.textContent = "Sending";
    job.row.classList.remove("refused");
    try {
      // A retry reuses the file's ticket while it has a minute left (the
      // processor answers a ticket it took once with the same image).
      if (!job.ticket || Date.parse(job.ticket.expires_at) - Date.now() < 60000) {
        job.ticket = await ticketFor(job);
      }
      const ticket = job.ticket;
      if (job.file.size > ticket.max_bytes) {
        throw new Error("Larger than this server accepts (" + mb(ticket.max_bytes) + "); nothing was kept.");
      }
      const answer = await send(job, ticket);
      job.loaded = job.file.size;
      job.bar.value = 1;
      job.image = answer.image_public_uuid;
      const link = document.createElement("a");
      link.href = "/admin/library/" + answer.image_public_uuid;
      if (answer.duplicate) {
        job.status = "duplicate";
        job.row.classList.add("refused");
        link.textContent = "the image already there";
        job.state.replaceChildren("Already in the library (nothing new was stored): ", link);
      } else {
        job.status = "done";
        link.textContent = "Added";
        job.state.replaceChildren(link, "; its versions are being made");
        watchVersions();
      }
    } catch (e) {
      job.status = "failed";
      job.row.classList.add("refused");
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "secondary";
      retry.textContent = "Retry";
      retry.setAttribute("aria-label", "Retry " + job.file.name);
      retry.addEventListener("click", () => {
        job.status = "waiting";
        job.state.textContent = "Waiting";
        pump();
      });
      job.state.replaceChildren(String(e.message || e) + " ", retry);
    }
    summary();
  }

  async function ticketFor(job) {
    const body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    body.set("filename", job.file.name);
    body.set("set_public_uuid", job.chosen.set_public_uuid);
    body.set("keywords", job.chosen.keywords);
    body.set("metadata_profile", job.chosen.metadata_profile);
    if (job.chosen.read_metadata) body.set("read_metadata", "on");
    let r;
    try {
      r = await fetch("/admin/upload/ticket", { method: "POST", body, credentials: "same-origin" });
    } catch (_) {
      throw new Error("The server could not be reached; press Retry.");
    }
    if (!(r.headers.get("content-type") || "").includes("application/json")) {
      throw new Error("Your console session ended or this page is out of date: reload it (and sign in).");
    }
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ? data.error.message : "The server refused this file.");
    return data;
  }

  // The file itself, to the processor, with upload progress.
  function send(job, ticket) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [key, value] of Object.entries(ticket.fields)) data.append(key, value);
      data.append(ticket.file_field, job.file, job.file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", ticket.upload_url);
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", (e) => {
        job.loaded = e.loaded;
        job.bar.value = e.lengthComputable && e.total ? e.loaded / e.total : 0;
        summary();
      });
      xhr.addEventListener("load", () => {
        const answer = xhr.response;
        if ((xhr.status === 200 || xhr.status === 201) && answer && answer.image_public_uuid) {
          resolve(answer);
        } else {
          // Only a server trouble keeps the ticket for a retry.
          if (xhr.status < 500) job.ticket = null;
          reject(new Error(refusal(xhr.status, answer)));
        }
      });
      xhr.addEventListener("error", () => reject(new Error("The connection broke off; press Retry.")));
      xhr.send(data);
    });
  }

  // The processor's refusal, as a person reads it.
  function refusal(status, answer) {
    const error = answer && answer.error ? answer.error : {};
    if (status === 413) return "Larger than this server accepts; nothing was kept.";
    if (status === 415) {
      return "Not a picture or video Lightbox takes (JPEG, PNG, WebP, TIFF, HEIC, GIF, MP4, MOV); nothing was kept.";
    }
    if (error.detail === "too_many_pixels") {
      return "The picture has more pixels than this server decodes; nothing was kept.";
    }
    if (error.detail === "ticket_expired") {
      return "Waited too long to send (the permission lasts 15 minutes); press Retry.";
    }
    if (status === 403 && error.code === "forbidden") {
      return "You may not upload this here: " + (error.message || "refused") + " Nothing was kept.";
    }
    if (status === 401) return "Your sign-in ended meanwhile: sign in again in another tab, then press Retry.";
    if (status === 429) return "Too many uploads at once; wait a moment and press Retry.";
    if (error.message) return error.message;
    return "The server refused this file (" + status + "); press Retry.";
  }

  function summary() {
    const total = jobs.reduce((n, j) => n + j.file.size, 0);
    const loaded = jobs.reduce((n, j) => n + (j.status === "waiting" ? 0 : j.loaded), 0);
    const settled = jobs.filter((j) => ["done", "duplicate", "failed"].includes(j.status)).length;
    const failed = jobs.filter((j) => j.status === "failed").length;
    overall.value = total ? loaded / total : 0;
    let text = settled + " of " + jobs.length + " files · " + mb(loaded) + " of " + mb(total);
    const elapsed = (performance.now() - firstStart) / 1000;
    if (settled < jobs.length && elapsed > 0.5 && loaded > 0) {
      const speed = loaded / elapsed;
      text += " · " + mb(speed) + "/s · " + seconds((total - loaded) / speed) + " left";
    }
    if (failed) text += " · " + failed + " refused";
    if (settled === jobs.length) text += " · finished";
    overallText.textContent = text;
  }

  // Thumbnails replace the "being made" note as the versions get ready.
  async function watchVersions() {
    if (polling) return;
    polling = true;
    for (let round = 0; round < 300; round += 1) {
      const waiting = jobs.filter((j) => j.status === "done" && !j.thumbnail);
      if (waiting.length === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
      const query = waiting.slice(0, 100).map((j) => "image=" + encodeURIComponent(j.image)).join("&");
      let answer;
      try {
        const r = await fetch("/admin/upload/status?" + query, { credentials: "same-origin" });
        if (!r.ok) continue;
        answer = await r.json();
      } catch (_) {
        continue;
      }
      for (const { image, thumbnail } of answer) {
        if (!thumbnail) continue;
        for (const job of waiting.filter((j) => j.image === image)) {
          job.thumbnail = thumbnail;
          const img = document.createElement("img");
          img.src = thumbnail;
          img.alt = "";
          img.width = 64;
          img.height = 64;
          img.className = "thumb";
          const link = document.createElement("a");
          link.href = "/admin/library/" + image;
          link.textContent = "Added";
          job.state.replaceChildren(img, link, "; ready");
        }
      }
    }
    polling = false;
  }

  input.addEventListener("change", () => {
    add(Array.from(input.files));
    input.value = "";
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    add(Array.from(input.files));
    input.value = "";
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    add(Array.from(e.dataTransfer.files));
  });
})();
