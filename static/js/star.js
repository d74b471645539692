// The conversation page's Star button (toggle.js): it follows `conversation.starred` on every tab;
// the row's section in the sidebar (sidebar.js) follows the same frame.

import { qs } from "./dom.js";
import { initToggleButton } from "./toggle.js";

export function initStarButton(socket, form, conversationId) {
  initToggleButton(socket, form, conversationId, {
    frame: "conversation.starred",
    key: "starred",
    show(starred, button) {
      button.setAttribute("aria-pressed", String(starred));
      const icon = qs("[aria-hidden]", button);
      const label = qs(".star-label", button);
      if (icon) icon.textContent = starred ? "★" : "☆";
      if (label) label.textContent = starred ? "Starred" : "Star";
    },
  });
}
