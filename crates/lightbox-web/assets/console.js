// The console works without this script; it only adds the copy buttons,
// and the one helper the page scripts share (they load after it).
"use strict";

// A random (v4) UUID: the idempotency key of a change a page script sends.
// crypto.randomUUID needs a secure context; getRandomValues does not.
window.lightboxNewKey = () => {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
};
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-status");
  if (!source) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(source.value);
    copied = true;
  } catch (_) {
    // No clipboard API (or no permission): select and use the old command.
    source.focus();
    source.select();
    try { copied = document.execCommand("copy"); } catch (_) { copied = false; }
  }
  if (status) {
    status.textContent = copied
      ? "Copied to the clipboard."
      : "Could not copy: select the token and copy it yourself.";
  }
});
