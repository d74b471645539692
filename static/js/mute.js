// The conversation page's Mute button (toggle.js): its label and aria-pressed follow
// `conversation.muted` on every tab; the sidebar row (sidebar.js) and notifications (notify.js)
// follow the same frame.

import { initToggleButton } from "./toggle.js";

export function initMuteButton(socket, form, conversationId) {
  initToggleButton(socket, form, conversationId, {
    frame: "conversation.muted",
    key: "muted",
    show(muted, button) {
      button.setAttribute("aria-pressed", String(muted));
      button.textContent = muted ? "Unmute" : "Mute";
    },
  });
}
