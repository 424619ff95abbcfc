// The tokens pages: copy a new token, and show the date field only when asked.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const copy = document.getElementById("copy-token");
  if (copy) {
    copy.addEventListener("click", async () => {
      const text = document.getElementById(copy.dataset.target).textContent.trim();
      const status = document.getElementById("copy-status");
      try {
        await navigator.clipboard.writeText(text);
        status.textContent = "Copied.";
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById(copy.dataset.target));
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
      }
    });
  }
  const expiry = document.getElementById("expiry");
  const date = document.getElementById("expires_on");
  if (expiry && date) {
    const sync = () => { date.parentElement.querySelector("label[for=expires_on]").hidden = date.hidden = expiry.value !== "date"; };
    expiry.addEventListener("change", sync);
    sync();
  }
});
