// The conversation list: unread badges, newest activity first, rows added and
// removed as access changes, presence dots, and the unread total in the title.

import { el, qs, qsa, toInt } from "./dom.js";
import { conversationRow, localizeTimes, mentionsMe, setRowPreview } from "./render.js";
import { paths } from "./urls.js";

export function initSidebar(socket, list, { openId = null } = {}) {
  const state = {
    me: null,
    // Seq up to which each badge already counts: a message at or below it is not news.
    counted: new Map(),
    // Time of the newest message seen live, per conversation (ms), for ordering.
    activity: new Map(),
  };
  const baseTitle = document.title.replace(/^\(\d+\) /, "");

  for (const row of rows()) {
    const at = Date.parse(qs("time.conversation-time", row)?.getAttribute("datetime") || "");
    if (!Number.isNaN(at)) state.activity.set(toInt(row.dataset.conversationId), at);
  }

  function rows() {
    return qsa("li[data-conversation-id]", list);
  }

  function rowFor(id) {
    return qs(`li[data-conversation-id="${id}"]`, list);
  }

  function viewingOpen(id) {
    return id === openId && document.visibilityState === "visible";
  }

  function badgeOf(row) {
    let badge = qs(".badge", row);
    if (!badge) {
      badge = el("span", { class: "badge", hidden: true });
      (qs("a", row) || row).append(badge);
    }
    return badge;
  }

  function setUnread(id, count) {
    const row = rowFor(id);
    if (!row) return;
    const badge = badgeOf(row);
    const n = Math.max(0, count);
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.dataset.count = String(n);
    badge.hidden = n === 0;
    badge.setAttribute("aria-label", `${n} unread`);
    row.classList.toggle("has-unread", n > 0);
    updateTitle();
  }

  /** The mention marker beside the unread count (messaging/markup.py renders it hidden at 0). */
  function setMentions(id, count) {
    const row = rowFor(id);
    if (!row) return;
    let marker = qs(".mention-badge", row);
    if (!marker) {
      marker = el("span", { class: "mention-badge", hidden: true });
      (qs("a", row) || row).append(marker);
    }
    const n = Math.max(0, count || 0);
    marker.textContent = `@${n > 99 ? "99+" : n}`;
    marker.dataset.count = String(n);
    marker.hidden = n === 0;
    marker.setAttribute("aria-label", `${n} mentions of you`);
  }

  function mentionsOf(id) {
    const marker = qs(".mention-badge", rowFor(id) || document.createElement("li"));
    return marker && !marker.hidden ? toInt(marker.dataset.count ?? marker.textContent.slice(1), 0) : 0;
  }

  function unreadOf(id) {
    const row = rowFor(id);
    if (!row) return 0;
    const badge = qs(".badge", row);
    if (!badge || badge.hidden) return 0;
    return toInt(badge.dataset.count ?? badge.textContent, 0);
  }

  /** The tab title: the unread total of the conversations that are not muted. */
  function updateTitle() {
    const total = rows()
      .filter((row) => !row.classList.contains("muted"))
      .reduce((sum, row) => sum + unreadOf(toInt(row.dataset.conversationId)), 0);
    document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
  }

  /** Move a row to where its newest activity puts it (newest first; muted ones after the others). */
  function reorder(row, at) {
    const id = toInt(row.dataset.conversationId);
    state.activity.set(id, at);
    const muted = row.classList.contains("muted");
    for (const other of rows()) {
      if (other === row) continue;
      if (!muted && other.classList.contains("muted")) {
        if (other.previousElementSibling !== row) list.insertBefore(row, other);
        return;
      }
      if (muted && !other.classList.contains("muted")) continue;
      const otherAt = state.activity.get(toInt(other.dataset.conversationId));
      // Rows without a known time were ordered before anything live happened: older.
      if (otherAt === undefined || otherAt <= at) {
        if (other.previousElementSibling !== row) list.insertBefore(row, other);
        return;
      }
    }
    list.append(row);
  }

  function onMessage(message) {
    const id = message.conversation;
    const row = rowFor(id);
    if (!row) return;
    const at = Date.parse(message.created_at);
    reorder(row, Number.isNaN(at) ? Date.now() : at);
    setRowPreview(row, message);
    const counted = state.counted.get(id) || 0;
    if (message.seq <= counted) return;
    state.counted.set(id, message.seq);
    const mine = message.author && message.author.id === state.me;
    if (!mine && !message.deleted && !viewingOpen(id)) {
      setUnread(id, unreadOf(id) + 1);
      if (mentionsMe(message, state.me)) setMentions(id, mentionsOf(id) + 1);
    }
  }

  function onHello(frame) {
    state.me = frame.user.id;
    resetPresence();
    const missing = [];
    for (const conversation of frame.conversations || []) {
      state.counted.set(conversation.id, conversation.last_seq);
      if (!rowFor(conversation.id)) missing.push(conversation.id);
      setUnread(conversation.id, viewingOpen(conversation.id) ? 0 : conversation.unread);
      setMentions(conversation.id, viewingOpen(conversation.id) ? 0 : conversation.mentions);
    }
    if (missing.length) addMissingRows(missing);
  }

  /**
   * Conversations gained while the socket was down (their `conversation.added` was
   * missed): take their rows from the server-rendered list. The page is parsed into an
   * inert document (no scripts run) and only the wanted rows are adopted.
   */
  async function addMissingRows(ids) {
    let doc;
    try {
      const response = await fetch(paths.chats(), { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok) return;
      doc = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      console.error("chat: fetching the conversation list failed", error);
      return;
    }
    for (const id of ids) {
      const fresh = doc.querySelector(`#conversation-list li[data-conversation-id="${id}"]`);
      if (!fresh || rowFor(id)) continue;
      const row = document.importNode(fresh, true);
      for (const node of qsa(".conversation-empty", list)) node.remove();
      list.prepend(row);
      localizeTimes(row);
      const at = Date.parse(qs("time.conversation-time", row)?.getAttribute("datetime") || "");
      reorder(row, Number.isNaN(at) ? 0 : at);
    }
    updateTitle();
  }

  function onAdded({ conversation }) {
    if (!conversation) return;
    state.counted.set(conversation.id, conversation.last_seq);
    let row = rowFor(conversation.id);
    if (!row) {
      row = conversationRow(conversation);
      for (const node of qsa(".conversation-empty", list)) node.remove();
      list.prepend(row);
      state.activity.set(conversation.id, Date.now());
    }
    setUnread(conversation.id, conversation.unread || 0);
  }

  function onRemoved({ conversation }) {
    rowFor(conversation)?.remove();
    state.activity.delete(conversation);
    state.counted.delete(conversation);
    updateTitle();
  }

  function setPresence(userId, online) {
    const user = toInt(userId);
    for (const dot of qsa(`.presence[data-user-id="${user}"], [data-user-id="${user}"] > .presence`)) {
      dot.classList.toggle("online", online);
      dot.title = online ? "online" : "offline";
    }
  }

  function onPresence(frame) {
    const id = typeof frame.user === "object" && frame.user !== null ? frame.user.id : frame.user;
    setPresence(id, Boolean(frame.online));
  }

  /** After (re)connecting the server tells who is online now: forget what we knew before. */
  function resetPresence() {
    for (const dot of qsa(".presence.online")) {
      dot.classList.remove("online");
      dot.title = "offline";
    }
    if (state.me !== null) setPresence(state.me, true); // this tab is connected, so its user is online
  }

  socket.on("hello", onHello);
  socket.on("message", onMessage);
  socket.on("unread", (frame) => {
    // The conversation on screen is being marked read: a count for it is about to be 0.
    if (frame.count > 0 && viewingOpen(frame.conversation)) return;
    setUnread(frame.conversation, frame.count);
    setMentions(frame.conversation, frame.mentions);
  });
  socket.on("conversation.muted", ({ conversation, muted }) => {
    // Muted on this tab or another: the row greys and moves below the unmuted ones (or back).
    const row = rowFor(conversation);
    if (!row) return;
    row.classList.toggle("muted", Boolean(muted));
    reorder(row, state.activity.get(conversation) ?? 0);
    updateTitle();
  });
  socket.on("conversation.added", onAdded);
  socket.on("conversation.removed", onRemoved);
  socket.on("presence", onPresence);
  socket.on("status", (status) => {
    if (status !== "connected" && state.me !== null) setPresence(state.me, false);
  });
  socket.on("message.deleted", ({ message }) => {
    // A deleted message that was the preview: say so, without moving the row.
    const row = message && rowFor(message.conversation);
    if (row && message.seq === state.counted.get(message.conversation)) setRowPreview(row, message);
  });
  updateTitle();
}
