// Names and pictures on the page follow `user.updated` (docs/protocol.md): a person's new display
// name shows at once in their messages, the member list, the sidebar's direct row with them, and
// anything marked [data-user-name="<id>"] (the header's own name, a direct conversation's title;
// "Seen by": conversation.js keeps that one). Every avatar of theirs, marked
// [data-user-avatar="<id>"] (messages, sidebar, headers, member and people lists), is rebuilt:
// the new picture (`avatar_url`), or the initial of the new name.

import { qsa } from "./dom.js";
import { avatar, displayName } from "./render.js";

// What says which picture or colour an avatar shows; its other classes (size, place) stay.
const LOOK = /^avatar-(\d|image)$/;

/** The avatar `user` has now, in the place and size of `node`. */
function avatarLike(node, user, name) {
  const fresh = avatar(user, name);
  const keep = [...node.classList].filter((c) => !LOOK.test(c));
  // The lists' plain `.avatar` circles have one colour; the chat's `.chat-avatar` ones one per person.
  const look = [...fresh.classList].filter((c) => LOOK.test(c) && (c === "avatar-image" || keep.includes("chat-avatar")));
  fresh.className = [...new Set([...keep, ...look])].join(" ");
  return fresh;
}

export function initUserUpdates(socket) {
  socket.on("user.updated", ({ user }) => {
    if (!user || typeof user.id !== "number") return;
    const id = String(user.id);
    const name = displayName(user);
    // Our own new name: messages typed from now on show it while they wait to be sent.
    if (socket.user && socket.user.id === user.id) socket.user = { ...socket.user, ...user };
    for (const node of qsa(`[data-user-name="${id}"]`)) node.textContent = name;
    for (const node of qsa(`[data-user-avatar="${id}"]`)) node.replaceWith(avatarLike(node, user, name));
    for (const item of qsa(`#messages li.message[data-author-id="${id}"]`)) {
      for (const author of qsa(":scope .message-author", item)) author.textContent = name;
    }
    for (const link of qsa(`li[data-user-id="${id}"] > a.person-name`)) link.textContent = name;
    for (const row of qsa(`#conversation-list li.conversation-row[data-other-user-id="${id}"]`)) {
      for (const label of qsa(".conversation-name", row)) label.textContent = name;
      for (const link of qsa(":scope > a", row)) link.title = name;
    }
  });
}
