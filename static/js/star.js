// The conversation page's Star button: a plain form post without JavaScript (the page reloads);
// with it, the toggle goes as JSON and the page stays. Every tab of the user follows the
// `conversation.starred` frame (docs/protocol.md), the tab that clicked included: the button
// here, the row's section in the sidebar (sidebar.js).

import { csrfToken, qs } from "./dom.js";

export function initStarButton(socket, form, conversationId) {
  const button = qs("button[type=submit]", form);
  if (!button) return;

  function show(starred) {
    button.setAttribute("aria-pressed", String(starred));
    const icon = qs("[aria-hidden]", button);
    const label = qs(".star-label", button);
    if (icon) icon.textContent = starred ? "★" : "☆";
    if (label) label.textContent = starred ? "Starred" : "Star";
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
      if (!response.ok) throw new Error(`star: ${response.status}`);
      show((await response.json()).starred); // the frame says the same (and moves the sidebar row)
    } catch {
      form.submit(); // as without JavaScript
    } finally {
      button.disabled = false;
    }
  });

  // Changed on another tab while this one was cut off: `hello` lists the starred conversations.
  socket.on("hello", (frame) => {
    if (Array.isArray(frame.starred)) show(frame.starred.includes(conversationId));
  });
  socket.on("conversation.starred", (frame) => {
    if (frame.conversation === conversationId) show(Boolean(frame.starred));
  });
}
