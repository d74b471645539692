// Names on the page follow `user.updated` (docs/protocol.md): a person's new display name shows
// at once in their messages (author and avatar letter), the member list, the sidebar's direct
// row with them, and anything marked [data-user-name="<id>"] (the header's own name, a direct
// conversation's title; "Seen by": conversation.js keeps that one) or [data-user-initial="<id>"].

import { qsa } from "./dom.js";
import { displayName, initial } from "./render.js";

export function initUserUpdates(socket) {
  socket.on("user.updated", ({ user }) => {
    if (!user || typeof user.id !== "number") return;
    const id = String(user.id);
    const name = displayName(user);
    // Our own new name: messages typed from now on show it while they wait to be sent.
    if (socket.user && socket.user.id === user.id) socket.user = { ...socket.user, ...user };
    for (const node of qsa(`[data-user-name="${id}"]`)) node.textContent = name;
    for (const node of qsa(`[data-user-initial="${id}"]`)) node.textContent = initial(name);
    for (const item of qsa(`#messages li.message[data-author-id="${id}"]`)) {
      for (const author of qsa(":scope .message-author", item)) author.textContent = name;
      for (const avatar of qsa(":scope > .chat-avatar", item)) avatar.textContent = initial(name);
    }
    for (const link of qsa(`li[data-user-id="${id}"] > a.person-name`)) link.textContent = name;
    for (const row of qsa(`#conversation-list li.conversation-row[data-other-user-id="${id}"]`)) {
      for (const label of qsa(".conversation-name", row)) label.textContent = name;
      for (const link of qsa(":scope > a", row)) link.title = name;
      for (const avatar of qsa(".chat-avatar", row)) avatar.textContent = initial(name);
    }
  });
}
