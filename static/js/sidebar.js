// The conversation list: sections (Starred, one per group, Direct messages) that collapse and
// stay so in this browser (the `sidebar_collapsed` cookie the server reads), unread badges,
// newest activity first within a section, rows added and removed as access changes (taken
// from the server-rendered list: one renderer), presence dots, and the unread total in the title.

import { el, qs, qsa, toInt } from "./dom.js";
import { conversationRow, localizeTimes, setRowPreview } from "./render.js";
import { paths } from "./urls.js";

export function initSidebar(socket, list) {
  const state = {
    me: null,
    // The newest seq seen per conversation: a deletion of that message changes the preview.
    counted: new Map(),
    // Time of the newest message seen live, per conversation (ms), for ordering.
    activity: new Map(),
  };
  const baseTitle = document.title.replace(/^\(\d+\) /, "");

  for (const row of rows()) {
    const at = Date.parse(qs("time.conversation-time", row)?.getAttribute("datetime") || "");
    if (!Number.isNaN(at)) state.activity.set(toInt(row.dataset.conversationId), at);
  }

  function rows(root = list) {
    return qsa("li[data-conversation-id]", root);
  }

  function sections() {
    return qsa("details.sidebar-section", list);
  }

  function rowFor(id) {
    return qs(`li[data-conversation-id="${id}"]`, list);
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

  function unreadOf(id) {
    const row = rowFor(id);
    if (!row) return 0;
    const badge = qs(".badge", row);
    if (!badge || badge.hidden) return 0;
    return toInt(badge.dataset.count ?? badge.textContent, 0);
  }

  /** The tab title: the unread total of the conversations that are not muted. */
  function updateTitle() {
    const unmuted = (root) => rows(root).filter((row) => !row.classList.contains("muted"));
    const sum = (root) => unmuted(root).reduce((n, row) => n + unreadOf(toInt(row.dataset.conversationId)), 0);
    const total = sum(list);
    document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
    for (const section of sections()) {
      const badge = qs(".section-badge", section);
      if (!badge) continue;
      const n = sum(section);
      badge.textContent = n > 99 ? "99+" : String(n);
      badge.hidden = n === 0;
      badge.setAttribute("aria-label", `${n} unread`);
    }
  }

  /** Move a row to where its newest activity puts it in its section (newest first; muted ones last). */
  function reorder(row, at) {
    const id = toInt(row.dataset.conversationId);
    state.activity.set(id, at);
    const muted = row.classList.contains("muted");
    const container = row.parentElement;
    if (!container) return;
    for (const other of qsa(":scope > li[data-conversation-id]", container)) {
      if (other === row) continue;
      if (!muted && other.classList.contains("muted")) {
        if (other.previousElementSibling !== row) container.insertBefore(row, other);
        return;
      }
      if (muted && !other.classList.contains("muted")) continue;
      const otherAt = state.activity.get(toInt(other.dataset.conversationId));
      // Rows without a known time were ordered before anything live happened: older.
      if (otherAt === undefined || otherAt <= at) {
        if (other.previousElementSibling !== row) container.insertBefore(row, other);
        return;
      }
    }
    container.append(row);
  }

  function onMessage(message) {
    const id = message.conversation;
    const row = rowFor(id);
    if (!row) return;
    const at = Date.parse(message.created_at);
    reorder(row, Number.isNaN(at) ? Date.now() : at);
    setRowPreview(row, message);
    // The badges are not counted here: the server's `unread` frame follows (messaging/unread.py).
    state.counted.set(id, Math.max(state.counted.get(id) || 0, message.seq));
  }

  function onHello(frame) {
    state.me = frame.user.id;
    resetPresence();
    const missing = [];
    for (const conversation of frame.conversations || []) {
      state.counted.set(conversation.id, conversation.last_seq);
      if (!rowFor(conversation.id)) missing.push(conversation.id);
      // The open conversation too: what has not scrolled into view yet is still unread (reading.js).
      setUnread(conversation.id, conversation.unread);
      setMentions(conversation.id, conversation.mentions);
    }
    // Mutes and stars changed on another tab while this one was cut off: `hello` lists them.
    if (Array.isArray(frame.muted)) {
      const muted = new Set(frame.muted);
      for (const row of rows(list)) {
        const id = toInt(row.dataset.conversationId);
        if (row.classList.contains("muted") === muted.has(id)) continue;
        row.classList.toggle("muted", muted.has(id));
        reorder(row, state.activity.get(id) ?? 0);
      }
      updateTitle();
    }
    if (Array.isArray(frame.starred)) {
      const starred = new Set(frame.starred);
      for (const row of rows(list)) {
        const id = toInt(row.dataset.conversationId);
        const inStarred = Boolean(row.closest('[data-section="starred"]'));
        if (inStarred !== starred.has(id) && !missing.includes(id)) missing.push(id);
      }
    }
    if (missing.length) addRows(missing);
  }

  /**
   * Rows for conversations gained live (`conversation.added`) or while the socket was down
   * (`hello` names them): taken from the server-rendered list, with their preview, time and
   * section, so they look like the others. The page is parsed into an inert document (no
   * scripts run) and only the wanted rows (and a section new to this page) are adopted.
   * Requests made while one is under way wait for it and go as one.
   */
  const pending = new Map(); // id -> the conversation.added payload (or null), for the fallback
  let fetching = null;

  function addRows(ids, frames = {}) {
    for (const id of ids) pending.set(id, frames[id] ?? pending.get(id) ?? null);
    if (!fetching) fetching = fetchRows().finally(() => {
      fetching = null;
      if (pending.size) addRows([]);
    });
    return fetching;
  }

  async function fetchRows() {
    const wanted = new Map(pending);
    pending.clear();
    let doc = null;
    try {
      const response = await fetch(paths.chats(), {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (response.ok) doc = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      console.error("chat: fetching the conversation list failed", error);
    }
    for (const [id, conversation] of wanted) {
      if (!state.counted.has(id)) continue; // removed meanwhile
      const fresh = doc?.querySelector(`#conversation-list li[data-conversation-id="${id}"]`);
      if (fresh) adoptRow(fresh);
      else if (conversation && !rowFor(id)) fallbackRow(conversation);
    }
    updateTitle();
  }

  /** Put a row from the server's list into the matching section here, creating that section if needed. */
  function adoptRow(fresh) {
    const id = toInt(fresh.dataset.conversationId);
    const freshSection = fresh.closest("details.sidebar-section");
    const section = freshSection ? sectionFor(freshSection) : null;
    if (!section) return;
    const old = rowFor(id);
    let row = document.importNode(fresh, true);
    localizeTimes(row);
    const active = old ? old.classList.contains("active") : false;
    row.classList.toggle("active", active);
    if (active) qs("a", row)?.setAttribute("aria-current", "page");
    else qs("a", row)?.removeAttribute("aria-current");
    if (old) {
      // Keep what this page learnt live since the server rendered it; only its section changes.
      if (toInt(old.dataset.lastSeq) > toInt(row.dataset.lastSeq)) row = old;
      if (row.parentElement !== qs("ul.conversation-list", section)) removeRow(old);
      else if (row !== old) old.replaceWith(row);
    }
    for (const node of qsa(".conversation-empty", list)) node.remove();
    if (row.parentElement !== qs("ul.conversation-list", section)) qs("ul.conversation-list", section).prepend(row);
    const at = Date.parse(qs("time.conversation-time", row)?.getAttribute("datetime") || "");
    reorder(row, Number.isNaN(at) ? 0 : at);
  }

  /** This page's section with the key of `fresh` (a section of the server's list), adopted empty if missing. */
  function sectionFor(fresh) {
    const key = fresh.dataset.section;
    const existing = qs(`details.sidebar-section[data-section="${key}"]`, list);
    if (existing) return existing;
    const section = document.importNode(fresh, true);
    qs("ul.conversation-list", section)?.replaceChildren();
    section.open = !collapsedKeys().has(key);
    // The server's order of sections: before the first one that follows it there and exists here.
    let next = fresh.nextElementSibling;
    while (next && !qs(`details.sidebar-section[data-section="${next.dataset.section}"]`, list)) {
      next = next.nextElementSibling;
    }
    const anchor = next ? qs(`details.sidebar-section[data-section="${next.dataset.section}"]`, list) : null;
    if (anchor) list.insertBefore(section, anchor);
    else {
      const empty = qs(".conversation-empty", list);
      list.insertBefore(section, empty);
    }
    return section;
  }

  /** The server's list could not be read: a plain row in the section it belongs to, if it is on the page. */
  function fallbackRow(conversation) {
    const key = conversation.kind === "direct" ? "direct" : `group-${conversation.group?.id}`;
    const section = qs(`details.sidebar-section[data-section="${key}"]`, list);
    if (!section) return;
    const row = conversationRow(conversation);
    qs("ul.conversation-list", section).prepend(row);
    state.activity.set(conversation.id, Date.now());
  }

  /** Take a row out; its section goes with its last row. */
  function removeRow(row) {
    const section = row.closest("details.sidebar-section");
    row.remove();
    if (section && !rows(section).length) section.remove();
  }

  function onAdded({ conversation }) {
    if (!conversation) return;
    state.counted.set(conversation.id, conversation.last_seq);
    if (rowFor(conversation.id)) setUnread(conversation.id, conversation.unread || 0);
    else addRows([conversation.id], { [conversation.id]: conversation });
  }

  function onRemoved({ conversation }) {
    const row = rowFor(conversation);
    if (row) removeRow(row);
    pending.delete(conversation);
    state.activity.delete(conversation);
    state.counted.delete(conversation);
    updateTitle();
  }

  // Collapsed sections, remembered by this browser in a cookie the server reads (no jump on load).
  const COOKIE = "sidebar_collapsed";

  function collapsedKeys() {
    const entry = document.cookie.split("; ").find((part) => part.startsWith(`${COOKIE}=`));
    const value = entry ? decodeURIComponent(entry.slice(COOKIE.length + 1)) : "";
    return new Set(value.split(",").filter(Boolean));
  }

  function rememberCollapsed(key, collapsed) {
    const keys = collapsedKeys();
    if (collapsed) keys.add(key);
    else keys.delete(key);
    const value = encodeURIComponent([...keys].join(","));
    document.cookie = `${COOKIE}=${value}; path=/; max-age=31536000; SameSite=Lax`;
  }

  // `toggle` does not bubble: listen while it passes down (capture).
  list.addEventListener(
    "toggle",
    (event) => {
      const section = event.target;
      if (section instanceof HTMLDetailsElement && section.matches("details.sidebar-section")) {
        rememberCollapsed(section.dataset.section, !section.open);
      }
    },
    true,
  );

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
  // Starred or unstarred on any tab: the row moves to "Starred" or back to its group's section.
  socket.on("conversation.starred", ({ conversation }) => {
    if (rowFor(conversation)) addRows([conversation]);
  });
  socket.on("conversation.removed", onRemoved);
  socket.on("presence", onPresence);
  socket.on("status", (status) => {
    if (status !== "connected" && state.me !== null) setPresence(state.me, false);
    // Cut off, the page cannot know who is online: the dots grey out (app.css, html[data-socket])
    // and say so; `hello` then the `presence` frames set them again once connected.
    if (status === "reconnecting" || status === "closed") {
      for (const dot of qsa(".presence")) dot.title = "unknown while disconnected";
    }
  });
  socket.on("message.deleted", ({ message }) => {
    // A deleted message that was the preview: say so, without moving the row.
    const row = message && rowFor(message.conversation);
    if (row && message.seq === state.counted.get(message.conversation)) setRowPreview(row, message);
  });
  updateTitle();
}
