// The conversation page's Mute button: a plain form post without JavaScript (the page reloads);
// with it, the toggle goes as JSON and the page stays. Every tab of the user follows the
// `conversation.muted` frame (docs/protocol.md), the tab that clicked included: the button's
// label and aria-pressed, the sidebar row (sidebar.js) and notifications (notify.js).

import { csrfToken, qs } from "./dom.js";

export function initMuteButton(socket, form, conversationId) {
  const button = qs("button[type=submit]", form);
  if (!button) return;

  function show(muted) {
    button.setAttribute("aria-pressed", String(muted));
    button.textContent = muted ? "Unmute" : "Mute";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`mute: ${response.status}`);
      show((await response.json()).muted); // the frame says the same, maybe later
    } catch {
      form.submit(); // as without JavaScript
    } finally {
      button.disabled = false;
    }
  });

  // Changed on another tab while this one was cut off: `hello` lists the muted conversations.
  socket.on("hello", (frame) => {
    if (Array.isArray(frame.muted)) show(frame.muted.includes(conversationId));
  });
  socket.on("conversation.muted", (frame) => {
    if (frame.conversation === conversationId) show(Boolean(frame.muted));
  });
}
