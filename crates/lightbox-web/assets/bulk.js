// The library grid's bulk actions: shift-click ticks a range, "select all
// on this page", a count of the ticked images, and the change sent in
// chunks of 50 so a progress bar shows how far it is. Without this script
// the form posts once and the server answers with the summary.
"use strict";
(() => {
  const form = document.getElementById("bulk");
  if (!form) return;
  const picks = Array.from(form.querySelectorAll("input.pick"));
  const all = document.getElementById("select-all");
  const count = document.getElementById("selected-count");
  const bar = document.getElementById("bulk-progress");
  const status = document.getElementById("bulk-status");
  const button = form.querySelector("button[type=submit]");
  const CHUNK = 50;
  let last = null;

  // A fresh idempotency key per change (console.js).
  const newKey = window.lightboxNewKey;

  all.closest(".select-all").hidden = false;
  const recount = () => {
    const n = picks.filter((p) => p.checked).length;
    count.textContent = "(" + n + " ticked)";
    all.checked = n === picks.length;
  };
  picks.forEach((pick, i) => {
    pick.addEventListener("click", (e) => {
      if (e.shiftKey && last !== null) {
        const [from, to] = last < i ? [last, i] : [i, last];
        for (let j = from; j <= to; j += 1) picks[j].checked = pick.checked;
      }
      last = i;
      recount();
    });
  });
  all.addEventListener("change", () => {
    picks.forEach((p) => (p.checked = all.checked));
    recount();
  });
  recount();

  async function json(response) {
    if (!(response.headers.get("content-type") || "").includes("application/json")) {
      throw new Error("Your console session ended or this page is out of date: reload it (and sign in).");
    }
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ? data.error.message : "The server refused the change.");
    return data;
  }

  // The ids the change applies to.
  async function chosen() {
    if (form.elements.scope.value !== "filter") {
      return picks.filter((p) => p.checked).map((p) => p.value);
    }
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("input[type=hidden][name^='filter.']")) {
      query.append(input.name, input.value);
    }
    const data = await json(await fetch("/admin/library/bulk/ids?" + query, { credentials: "same-origin" }));
    return data.images;
  }

  // Sends `fields` for `ids` in chunks, the bar following; what was done
  // and refused (by reason, and the refused ids).
  async function change(fields, ids) {
    bar.hidden = false;
    bar.value = 0;
    let done = 0;
    const refused = new Map();
    const refusedIds = new Set();
    for (let at = 0; at < ids.length; at += CHUNK) {
      status.textContent = at + " of " + ids.length + " images…";
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(fields)) body.set(name, value);
      body.set("scope", "selected");
      body.set("format", "json");
      body.set("confirm", "yes");
      for (const id of ids.slice(at, at + CHUNK)) body.append("image", id);
      const answer = await json(
        await fetch("/admin/library/bulk", { method: "POST", body, credentials: "same-origin" }),
      );
      done += answer.done;
      for (const r of answer.refused) {
        refused.set(r.reason, (refused.get(r.reason) || 0) + r.images.length);
        r.images.forEach((id) => refusedIds.add(id));
      }
      bar.value = Math.min(ids.length, at + CHUNK) / ids.length;
    }
    let text = done + " of " + ids.length + " images changed.";
    for (const [reason, n] of refused) text += " " + n + " not changed: " + reason;
    return { text, refusedIds };
  }

  // Keys 0–5 on a tile rate it, or every ticked image when some are.
  const grid = document.getElementById("images");
  grid.addEventListener("keydown", async (e) => {
    if (!/^[0-5]$/.test(e.key) || e.ctrlKey || e.metaKey || e.altKey) return;
    const tile = e.target.closest("li");
    if (!tile) return;
    e.preventDefault();
    const ticked = picks.filter((p) => p.checked).map((p) => p.value);
    const ids = ticked.length ? ticked : [tile.querySelector("input.pick").value];
    const fields = {
      csrf: form.elements.csrf.value,
      idem: newKey(),
      action: "rating",
      rating: e.key,
      keywords: "",
      target_set: "",
    };
    try {
      const { text, refusedIds } = await change(fields, ids);
      for (const id of ids.filter((id) => !refusedIds.has(id))) {
        const stars = grid.querySelector("input.pick[value='" + id + "']").closest("li").querySelector(".stars");
        stars.textContent = e.key === "0" ? "" : "★ " + e.key + " · ";
      }
      status.textContent = "Rating " + e.key + ": " + text;
    } catch (err) {
      status.textContent = String(err.message || err);
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    status.textContent = "Starting…";
    try {
      const ids = await chosen();
      if (ids.length === 0) throw new Error("No images were chosen: tick some, or choose every image the filters find.");
      // What the form says now: changing it during the run changes nothing.
      const fields = {};
      for (const name of ["csrf", "idem", "action", "keywords", "rating", "target_set"]) {
        fields[name] = form.elements[name].value;
      }
      const action = fields.action;
      if (action === "delete" && !window.confirm("Delete " + ids.length + " images? This cannot be undone.")) {
        return;
      }
      // Each Apply is a change of its own (a new key); within it, the
      // chunks are its writes.
      fields.idem = newKey();
      if (action === "zip" || action === "add_to_set" || action === "remove_from_set") {
        // One archive, or one set change, of them all (one snapshot of the
        // set, one undo); a job's page follows it.
        const body = new URLSearchParams(fields);
        body.set("scope", "selected");
        body.set("format", "json");
        for (const id of ids) body.append("image", id);
        const answer = await json(
          await fetch("/admin/library/bulk", { method: "POST", body, credentials: "same-origin" }),
        );
        if (answer.operation) {
          window.location.assign("/admin/operations/" + answer.operation);
          return;
        }
        let text = answer.done + " of " + ids.length + " images changed.";
        for (const r of answer.refused) text += " " + r.images.length + " not changed: " + r.reason;
        status.textContent = text + " Reload the page to see the changes.";
        return;
      }
      const { text } = await change(fields, ids);
      status.textContent = text + " Reload the page to see the changes.";
    } catch (err) {
      status.textContent = String(err.message || err);
    } finally {
      button.disabled = false;
    }
  });
})();
