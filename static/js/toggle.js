// A conversation's per-user toggle button (Mute, Star): a plain form post without JavaScript (the
// page reloads); with it, the toggle goes as JSON and the page stays. Every tab of the user
// follows the toggle's frame (docs/protocol.md), the tab that clicked included, and `hello`
// (which lists what is on) brings a tab that was away up to date.

import { csrfToken, qs } from "./dom.js";

/**
 * `frame`: the frame type ("conversation.muted"); `key`: its field and `hello`'s list ("muted");
 * `show(on, button)`: draw the button.
 */
export function initToggleButton(socket, form, conversationId, { frame, key, show }) {
  const button = qs("button[type=submit]", form);
  if (!button) return;
  const draw = (on) => show(Boolean(on), button);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`${key}: ${response.status}`);
      draw((await response.json())[key]); // the frame says the same, maybe later
    } catch {
      form.submit(); // as without JavaScript
    } finally {
      button.disabled = false;
    }
  });

  socket.on("hello", (hello) => {
    if (Array.isArray(hello[key])) draw(hello[key].includes(conversationId));
  });
  socket.on(frame, (message) => {
    if (message.conversation === conversationId) draw(message[key]);
  });
}
