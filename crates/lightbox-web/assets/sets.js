// A set's page: the countdown to the next go-live, and dragging an image
// row onto another to move it there (the same move the buttons make).
// Without this script the page states the instant and the buttons move.
"use strict";
(() => {
  const when = document.getElementById("countdown");
  const left = document.getElementById("countdown-left");
  if (when && left) {
    const at = Date.parse(when.getAttribute("datetime"));
    const tick = () => {
      const s = Math.round((at - Date.now()) / 1000);
      if (s <= 0) {
        left.textContent = " — live now.";
        clearInterval(timer);
        // The page shows the new state a moment after the instant.
        setTimeout(() => window.location.reload(), 1500);
        return;
      }
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      left.textContent = " — in " + (h ? h + " h " : "") + (h || m ? m + " min " : "") + sec + " s";
    };
    const timer = setInterval(tick, 1000);
    tick();
  }

  const list = document.getElementById("set-images");
  if (!list) return;
  // A fresh idempotency key per change (console.js).
  const newKey = window.lightboxNewKey;
  let dragged = null;
  list.addEventListener("dragstart", (e) => {
    dragged = e.target.closest("li");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", dragged ? dragged.dataset.image : "");
  });
  list.addEventListener("dragover", (e) => {
    if (e.target.closest("li")) e.preventDefault();
  });
  list.addEventListener("drop", async (e) => {
    const target = e.target.closest("li");
    if (!dragged || !target || target === dragged) return;
    e.preventDefault();
    const rows = Array.from(list.children);
    const to = rows.indexOf(dragged) < rows.indexOf(target) ? "after" : "before";
    const body = new URLSearchParams({
      csrf: list.dataset.csrf,
      idem: newKey(),
      part: "move",
      format: "json",
      image: dragged.dataset.image,
      to,
      target: target.dataset.image,
    });
    const r = await fetch(window.location.pathname, { method: "POST", body, credentials: "same-origin" });
    if (r.ok) window.location.assign(window.location.pathname + "?done=move");
  });
})();
