// The console works without this script; it only adds the copy buttons.
"use strict";
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
