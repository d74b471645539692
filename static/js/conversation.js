// The open conversation: live message list, composer over the socket (the form
// POST when the socket is down), typing indicator, inline edit and delete, load
// older, seen-by, and the notice when the user loses access. The reader's own read marker
// follows what scrolls into view: static/js/reading.js.
//
// Hooks are the ones templates/messaging/conversation.html documents.

import { csrfToken, el, qs, qsa, toInt, uuid } from "./dom.js";
import { initComposerFiles } from "./attachments.js";
import { autoGrow, fitHeight } from "./composer.js";
import { autoLoadOlder, decorateMessages, jumpToLatest } from "./history.js";
import { displayName, fillMessage, fillReactions, markMyMentions, pendingMessage } from "./render.js";
import { paths } from "./urls.js";

const TYPING_SEND_INTERVAL_MS = 2000; // the server relays at most one typing frame per 2 s
const TYPING_SHOW_MS = 5000; // how long "… is typing" stays after the last frame
const NEAR_BOTTOM_PX = 120;
const HISTORY_LIMIT = 50;
const REFRESH_LIMIT = 100; // newest messages re-read after a reconnect (the endpoint's largest page)
const CATCH_UP_PAGES = 20; // newer pages loaded in place after a send from older history, before reloading at the latest
const SENDING_TEXT = "sending…";
const WAITING_TEXT = "waiting for the connection…";

function seenReader(node) {
  return { id: toInt(node.dataset.userName), name: node.textContent };
}

export function initConversation(socket, root) {
  const conversationId = toInt(root.dataset.conversationId);
  // data-live="false": the page shows older history, so new messages are not appended
  // until the reader scrolls (or follows "Newer messages") down to the latest.
  let live = root.dataset.live !== "false";
  const around = toInt(root.dataset.around, null); // opened at this message (a search result)
  const historyUrl = root.dataset.historyUrl;
  const maxLength = toInt(root.dataset.maxLength, 0);
  const reactionChoices = (root.dataset.reactionChoices || "").split(" ").filter(Boolean);
  const list = qs("#messages");
  const scroller = qs("#messages-scroll") || list;
  const empty = qs("#messages-empty");
  const form = qs("#composer");
  const textarea = form ? qs("textarea[name=body]", form) : null;
  const composerError = qs("#composer-error");
  const replyInput = qs("#reply-to");
  const replyNote = qs("#reply-note");
  const typingLine = qs("#typing");
  const seenLine = qs("#seen-by");
  const historyStart = qs("#history-start");
  const olderLink = qs("#older-link");
  const newerLink = qs("#newer-link");
  let composerFiles = null; // static/js/attachments.js: the files picked, dropped or pasted
  const sentFiles = new Map(); // client id -> the files of a send not yet acknowledged
  const state = {
    me: toInt(root.dataset.userId, null),
    canModerate: root.dataset.canModerate === "true",
    removed: false,
    missedLive: false, // a message arrived while older history was shown
    lastTypingSent: 0,
    typers: new Map(), // user id -> {user, until}
    seen: new Map(), // user id -> {user, seq}: read markers of the others, from `read` frames
    // Edits, deletes and reactions sent and not yet confirmed: {seq, clientId, undo}. Each frame
    // carries its `client_id`, and the server's `error` frame names the one it refuses.
    changes: [],
  };
  // The readers the page rendered under the newest message, valid until a newer one arrives.
  const initialSeen = {
    seq: newestSeqOf(list),
    // [{id, name}] from the page's span[data-user-name] (user.updated renames them).
    readers: seenLine && !seenLine.hidden ? qsa("[data-user-name]", seenLine).map(seenReader) : [],
  };

  // ---- message list -----------------------------------------------------------

  function viewer() {
    return {
      me: state.me,
      canModerate: state.canModerate,
      conversationId,
      csrf: csrfToken(),
      readOnly: state.removed,
      reactionChoices,
    };
  }

  /** Focus a message (static/js/keyboard.js gives each a tabindex; one just added may not have it yet). */
  function focusMessage(item) {
    if (!item) return;
    if (!item.hasAttribute("tabindex")) item.tabIndex = -1;
    item.focus();
  }

  function findMessage(seq) {
    return qs(`li.message[data-seq="${seq}"]`, list);
  }

  function realMessages() {
    return qsa("li.message[data-seq]", list);
  }

  function newestSeq() {
    const items = realMessages();
    return items.length ? toInt(items[items.length - 1].dataset.seq) : 0;
  }

  function oldestSeq() {
    const first = realMessages()[0];
    return first ? toInt(first.dataset.seq) : 0;
  }

  // With `flex-direction: column-reverse` the scroll origin is the bottom: scrollTop is 0
  // at the newest message and negative above it.
  const reversed = getComputedStyle(scroller).flexDirection === "column-reverse";

  function nearBottom() {
    if (reversed) return Math.abs(scroller.scrollTop) < NEAR_BOTTOM_PX;
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    scroller.scrollTop = reversed ? 0 : scroller.scrollHeight;
  }

  function listChanged() {
    decorateMessages(list);
    if (empty) empty.hidden = list.children.length > 0;
    // The first message of a conversation that was empty: say where it begins, as the server would.
    const first = realMessages()[0];
    if (first && toInt(first.dataset.seq) === 1 && !olderLink && historyStart) historyStart.hidden = false;
    renderSeen();
  }

  /** Put a message element where its seq belongs: before the first higher seq, else before pending sends. */
  function place(item, seq) {
    for (const other of realMessages()) {
      if (other !== item && toInt(other.dataset.seq) > seq) {
        list.insertBefore(item, other);
        return;
      }
    }
    const firstPending = qs("li.message.pending", list);
    if (firstPending && firstPending !== item) list.insertBefore(item, firstPending);
    else list.append(item);
  }

  // "N new messages · Jump to latest" for a reader scrolled up in the history when something arrives.
  const jump = jumpToLatest({ scroller, reversed, nearBottom, scrollToBottom });
  scroller.addEventListener("scroll", () => {
    if (!live && nearBottom()) loadNewer();
  });

  function showMessage(message) {
    if (!live) {
      state.missedLive = true;
      showNewerNotice();
      return;
    }
    const mine = message.author && message.author.id === state.me;
    const stick = nearBottom() || mine;
    if (!stick && !findMessage(message.seq)) jump.arrived();
    const item = findMessage(message.seq);
    if (item) {
      if (!item.classList.contains("editing")) fillMessage(item, message, viewer());
    } else if (!claimPending(message)) {
      place(fillMessage(el("li"), message, viewer()), message.seq);
    }
    if (message.author) stopTyping(message.author.id);
    listChanged();
    if (stick) scrollToBottom();
  }

  /** A sender's own message.new may beat its ack: match it to the oldest pending send with that body. */
  function claimPending(message) {
    if (!message.author || message.author.id !== state.me) return false;
    const pending = qsa("li.message.pending:not(.failed)", list).find((item) => item.dataset.body === message.body);
    if (!pending) return false;
    fillMessage(pending, message, viewer());
    place(pending, message.seq);
    return true;
  }

  function updateMessage(message) {
    const item = findMessage(message.seq);
    if (!item) return;
    if (item.classList.contains("editing")) {
      if (!message.deleted) return; // keep the user's draft; the edit they save wins
      item.classList.remove("editing");
    }
    fillMessage(item, message, viewer());
    listChanged();
  }

  /** Viewing older history: say that newer messages exist instead of appending them out of place. */
  function showNewerNotice() {
    if (qs("#newer-notice")) return;
    const notice = el(
      "p",
      { id: "newer-notice", class: "history-nav newer-notice", role: "status" },
      "New messages arrived. ",
      el("a", { href: `${paths.conversation(conversationId)}?latest=1`, text: "Jump to the latest" }),
    );
    list.after(notice);
  }

  // ---- sending ---------------------------------------------------------------

  function pendingFor(clientId) {
    return qsa("li.message.pending", list).find((item) => item.dataset.clientId === clientId) || null;
  }

  function onAck({ client_id: clientId, message }) {
    sentFiles.delete(clientId);
    const pending = pendingFor(clientId);
    if (!pending || !message || message.conversation !== conversationId) return;
    const existing = findMessage(message.seq);
    if (existing && existing !== pending) pending.remove();
    else {
      fillMessage(pending, message, viewer());
      place(pending, message.seq);
    }
    listChanged();
  }

  function onSendError({ client_id: clientId, detail }) {
    const pending = pendingFor(clientId);
    const files = sentFiles.get(clientId) || [];
    sentFiles.delete(clientId);
    if (files.length && composerFiles) composerFiles.restore(files); // the files are still uploaded
    if (pending && files.length && textarea && !textarea.value.trim()) {
      // A message with files goes back to the composer whole (text and tray), with the reason.
      textarea.value = pending.dataset.body || "";
      pending.remove();
      listChanged();
      showComposerError(`Not sent: ${detail || "the server refused it."}`);
      return;
    }
    if (!pending) return;
    pending.classList.add("failed");
    const status = qs(".message-status", pending);
    status.textContent = `Not sent: ${detail || "the server refused it."}`;
    const body = pending.dataset.body;
    qs(".message-content", pending).append(
      el(
        "div",
        { class: "edit-actions failed-actions" },
        el("button", {
          type: "button",
          class: "link-button",
          text: "Edit and retry",
          on: {
            click: () => {
              pending.remove();
              listChanged();
              if (textarea && !textarea.value) textarea.value = body;
              fitHeight(textarea);
              textarea?.focus();
            },
          },
        }),
        el("button", {
          type: "button",
          class: "link-button",
          text: "Dismiss",
          on: {
            click: () => {
              pending.remove();
              listChanged();
            },
          },
        }),
      ),
    );
  }

  function showComposerError(text) {
    if (!composerError) return;
    composerError.textContent = text;
    composerError.hidden = !text;
  }

  function onSubmit(event) {
    if (state.removed) {
      event.preventDefault();
      return;
    }
    const body = textarea.value.trim();
    if (composerFiles && composerFiles.busy()) {
      event.preventDefault();
      showComposerError("Wait for the files to finish uploading, or remove them.");
      return;
    }
    const fileIds = composerFiles ? composerFiles.ids() : [];
    if (!body && !fileIds.length) {
      event.preventDefault();
      showComposerError("Write something before sending.");
      textarea.focus();
      return;
    }
    if (maxLength && body.length > maxLength) {
      event.preventDefault();
      showComposerError(`Messages can be at most ${maxLength} characters (this one has ${body.length}).`);
      return;
    }
    // Connected, or briefly reconnecting: send over the socket (queued until it is back).
    // Never connected (sockets blocked?) or signed out: the form posts as without JavaScript.
    if (!(socket.ready || socket.status === "reconnecting")) {
      if (composerFiles) composerFiles.addHiddenFields();
      return;
    }
    event.preventDefault();
    showComposerError("");
    // Sent from older history (the page opened at the first unread, or at a search result): the
    // message goes over the socket at once and the list catches up to the latest in place, so
    // nothing reloads under what the user types next.
    const catchingUp = !live;
    const clientId = socket.sendMessage(conversationId, body, toInt(replyInput?.value, 0) || null, fileIds);
    setReply(null);
    if (composerFiles) {
      sentFiles.set(clientId, composerFiles.take()); // back to the tray if the send fails
      composerFiles.clear();
    }
    const item = pendingMessage(clientId, body, socket.user);
    if (!socket.ready) qs(".message-status", item).textContent = WAITING_TEXT;
    list.append(item); // its ack puts it in its place by seq (and drops a copy a newer page brought)
    listChanged();
    scrollToBottom();
    if (catchingUp) catchUp().then(scrollToBottom);
    textarea.value = "";
    fitHeight(textarea);
    textarea.focus();
  }

  function onKeydown(event) {
    if (event.key === "ArrowUp" && !textarea.value && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      const own = qsa("li.message.mine[data-seq]:not(.deleted)", list).filter((item) => qs("a.message-edit", item));
      const last = own[own.length - 1];
      if (!last) return;
      event.preventDefault();
      if (live && socket.ready) startEdit(last);
      else qs("a.message-edit", last).click(); // the edit page
      return;
    }
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.altKey || event.ctrlKey) return;
    event.preventDefault();
    form.requestSubmit();
  }

  function onInput() {
    if (composerError && !composerError.hidden) showComposerError("");
    if (state.removed || !textarea.value.trim()) return;
    const now = Date.now();
    if (now - state.lastTypingSent < TYPING_SEND_INTERVAL_MS) return;
    if (socket.send({ type: "typing", conversation: conversationId })) state.lastTypingSent = now;
  }

  // ---- edit and delete -------------------------------------------------------

  function startEdit(item) {
    if (item.classList.contains("editing")) return;
    const seq = toInt(item.dataset.seq);
    const body = qs(".message-body", item);
    const original = item.dataset.body ?? (body ? body.textContent : ""); // the Markdown source
    item.classList.add("editing");
    // Where focus goes back to on cancel: the composer (Up in an empty composer), the menu's button
    // (Edit in the menu), else the message itself.
    const active = document.activeElement;
    const menu = active && item.contains(active) ? active.closest("details") : null;
    const returnTo = active === textarea ? textarea : menu?.querySelector("summary") || item;
    const editor = el("textarea", { class: "edit-body", "aria-label": "Edit message", rows: 2 });
    editor.value = original;
    const status = el("span", { class: "edit-status", role: "status" });
    const finish = (focus = returnTo) => {
      item.classList.remove("editing");
      editForm.remove();
      focus?.focus();
    };
    const save = (event) => {
      event.preventDefault();
      const text = editor.value.trim();
      if (!text || text === original.trim()) {
        finish(null);
        focusMessage(item);
        return;
      }
      if (maxLength && text.length > maxLength) {
        status.textContent = `At most ${maxLength} characters.`;
        return;
      }
      const clientId = uuid();
      if (!socket.send({ type: "message.edit", conversation: conversationId, seq, body: text, client_id: clientId })) {
        status.textContent = "Not connected: try again in a moment.";
        return;
      }
      const shown = body ? Array.from(body.childNodes) : [];
      const undo = () => {
        if (!body || !body.isConnected) return;
        body.replaceChildren(...shown);
        body.classList.remove("as-typed");
        item.dataset.body = original;
      };
      state.changes.push({ seq, clientId, undo });
      if (body) {
        body.textContent = text; // shown as typed now; the server's message.edited brings its HTML
        body.classList.add("as-typed");
        item.dataset.body = text;
      }
      finish(null); // saved: focus stays on the message
      focusMessage(item);
    };
    const editForm = el(
      "form",
      { class: "edit-form", on: { submit: save } },
      editor,
      el(
        "div",
        { class: "edit-actions" },
        el("button", { type: "submit", class: "button small primary", text: "Save" }),
        el("button", { type: "button", class: "button small", text: "Cancel", on: { click: () => finish() } }),
        status,
      ),
    );
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish();
      }
      else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        editForm.requestSubmit();
      }
    });
    (body || item).after(editForm);
    autoGrow(editor);
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }

  function onListClick(event) {
    const replyLink = event.target.closest("a.message-reply");
    if (replyLink && list.contains(replyLink) && live && socket.ready) {
      event.preventDefault();
      setReply(replyLink.closest("li.message[data-seq]"));
      return;
    }
    const originalLink = event.target.closest(".reply-to a[data-seq]");
    if (originalLink && list.contains(originalLink)) return showOriginal(event, originalLink);
    const link = event.target.closest("a.message-edit");
    if (!link || !list.contains(link)) return;
    const item = link.closest("li.message[data-seq]");
    if (!item || !socket.ready) return; // the edit page works without the socket
    event.preventDefault();
    const menu = link.closest("details");
    if (menu) menu.open = false;
    startEdit(item);
  }

  function onListSubmit(event) {
    const reactionForm = event.target.closest("form.reactions");
    if (reactionForm) return toggleReaction(event, reactionForm);
    const deleteForm = event.target.closest("form.message-delete");
    if (!deleteForm) return;
    const item = deleteForm.closest("li.message[data-seq]");
    if (!item) return;
    if (!window.confirm("Delete this message? Everyone in the conversation will see that it was deleted.")) {
      event.preventDefault();
      return;
    }
    const seq = toInt(item.dataset.seq);
    const clientId = uuid();
    if (!socket.send({ type: "message.delete", conversation: conversationId, seq, client_id: clientId })) {
      return; // the form posts
    }
    event.preventDefault();
    focusMessage(item); // the menu and its button go with the message's content: focus stays on the message
    state.changes.push({ seq, clientId, undo: null });
  }

  /** Reply to a message (its item), or stop replying (null): the composer's hidden `reply_to` and note. */
  function setReply(item) {
    if (!replyInput || !replyNote) return;
    replyInput.value = item ? item.dataset.seq : "";
    replyNote.hidden = !item;
    const text = qs("#reply-note-text", replyNote);
    if (item && text) {
      const author = qs(".message-author", item)?.textContent || "";
      const body = (qs(".message-body", item)?.textContent || "").trim().replace(/\s+/g, " ");
      text.textContent = `Replying to ${author}: ${body.length > 80 ? `${body.slice(0, 79)}…` : body}`;
    }
    if (item) textarea?.focus();
  }

  /** A reply's link to its original: scroll to it when it is on this page. */
  function showOriginal(event, link) {
    const original = findMessage(toInt(link.dataset.seq));
    if (!original) return; // not on this page: the link opens the conversation there
    event.preventDefault();
    original.scrollIntoView({ block: "center" });
    original.classList.add("flash");
    setTimeout(() => original.classList.remove("flash"), 1500);
  }

  /** A reaction button or a picker choice: over the socket when it is up, else the form posts. */
  function toggleReaction(event, reactionForm) {
    const item = reactionForm.closest("li.message[data-seq]");
    const emoji = event.submitter?.value;
    if (!item || !emoji) return;
    const seq = toInt(item.dataset.seq);
    const clientId = uuid();
    if (!socket.send({ type: "reaction.toggle", conversation: conversationId, seq, emoji, client_id: clientId })) return;
    event.preventDefault();
    const picker = qs("details.reaction-picker", reactionForm);
    if (picker) picker.open = false;
    state.changes.push({ seq, clientId, undo: null });
  }

  function onReactionChanged(frame) {
    if (frame.conversation !== conversationId) return;
    settleChange(frame.seq);
    const form = qs("form.reactions", findMessage(frame.seq) || document.createElement("li"));
    if (form) fillReactions(form, frame.seq, frame.reactions, viewer());
  }

  /** The server confirmed a change to a message: it is no longer waiting. */
  function settleChange(seq) {
    const index = state.changes.findIndex((change) => change.seq === seq);
    if (index >= 0) state.changes.splice(index, 1);
  }

  /** An `error` frame not about a send: undo the change it names (its `client_id`), and say why. */
  function onError(frame) {
    const index = frame.client_id ? state.changes.findIndex((change) => change.clientId === frame.client_id) : -1;
    const change = index >= 0 ? state.changes.splice(index, 1)[0] : null;
    if (change && change.undo) change.undo();
    showComposerError(frame.detail || "That did not work. Try again.");
  }

  // ---- typing ----------------------------------------------------------------

  function onTyping(frame) {
    if (frame.conversation !== conversationId || !frame.user || frame.user.id === state.me) return;
    state.typers.set(frame.user.id, { user: frame.user, until: Date.now() + TYPING_SHOW_MS });
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOW_MS + 50);
  }

  function stopTyping(userId) {
    if (state.typers.delete(userId)) renderTyping();
  }

  function renderTyping() {
    if (!typingLine) return;
    const now = Date.now();
    for (const [id, entry] of state.typers) if (entry.until <= now) state.typers.delete(id);
    const names = Array.from(state.typers.values(), (entry) => displayName(entry.user));
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    typingLine.textContent = text;
  }

  // ---- others' read markers: seen-by ------------------------------------------

  function onRead(frame) {
    if (frame.conversation !== conversationId || !frame.user || frame.user.id === state.me) return;
    const known = state.seen.get(frame.user.id);
    if (!known || known.seq < frame.seq) state.seen.set(frame.user.id, { user: frame.user, seq: frame.seq });
    renderSeen();
  }

  /** "Seen by …": the others (not the author) who read up to the newest message. */
  function renderSeen() {
    if (!seenLine || !live) return;
    const items = realMessages();
    const newest = items[items.length - 1];
    const seq = newest ? toInt(newest.dataset.seq) : 0;
    const authorId = newest ? toInt(newest.dataset.authorId, null) : null;
    const readers = seq === initialSeen.seq ? [...initialSeen.readers] : [];
    for (const { user, seq: read } of state.seen.values()) {
      if (seq && read >= seq && user.id !== authorId && !readers.some((r) => r.id === user.id)) {
        readers.push({ id: user.id, name: displayName(user) });
      }
    }
    const parts = readers.flatMap((reader, i) => [
      i ? ", " : "",
      el("span", { dataset: { userName: String(reader.id) }, text: reader.name }),
    ]);
    seenLine.replaceChildren(...(readers.length ? ["Seen by ", ...parts] : []));
    // Under a message still waiting to be sent (or that failed), "Seen by" would claim it was read.
    seenLine.hidden = readers.length === 0 || qs("li.message.pending", list) !== null;
  }

  /** A reader's new display name (`user.updated`): "Seen by" says it from now on. */
  socket.on("user.updated", ({ user }) => {
    if (!user) return;
    for (const reader of initialSeen.readers) if (reader.id === user.id) reader.name = displayName(user);
    const known = state.seen.get(user.id);
    if (known) known.user = { ...known.user, ...user };
    renderSeen();
  });

  // ---- load older ------------------------------------------------------------

  async function loadOlder(event) {
    const before = oldestSeq();
    if (!before) return false;
    event?.preventDefault(); // a click while a page is loading (it loads by itself on scrolling) waits for it
    if (olderLink.getAttribute("aria-busy") === "true") return false;
    olderLink.setAttribute("aria-busy", "true");
    const linkFocused = document.activeElement === olderLink; // focusing it scrolls it into view: it loads
    try {
      const url = `${historyUrl}?before=${before}&limit=${HISTORY_LIMIT}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(`history answered ${response.status}`);
      const data = await response.json();
      const anchor = realMessages()[0];
      const offset = anchor ? anchor.getBoundingClientRect().top : 0;
      const fragment = document.createDocumentFragment();
      for (const message of data.messages) {
        if (!findMessage(message.seq)) fragment.append(fillMessage(el("li"), message, viewer()));
      }
      list.insertBefore(fragment, list.firstChild);
      decorateMessages(list);
      // Keep what the reader was looking at where it was.
      if (anchor) scroller.scrollTop += anchor.getBoundingClientRect().top - offset;
      olderLink.textContent = "Load older messages";
      if (!data.has_more) {
        // The link goes: a keyboard user who followed it lands on the oldest message.
        if (linkFocused || document.activeElement === olderLink) focusMessage(realMessages()[0]);
        (olderLink.closest(".history-nav") || olderLink).remove();
        if (historyStart) historyStart.hidden = false;
      }
      return true;
    } catch (error) {
      console.error("chat: loading older messages failed", error);
      olderLink.textContent = "Could not load older messages. Try again";
      return false;
    } finally {
      olderLink.removeAttribute("aria-busy");
    }
  }

  // ---- load newer (a page opened in the history, e.g. at a search result) ----

  let newerRequest = null; // the page of newer messages being loaded, if any

  function loadNewer(event) {
    if (live) return Promise.resolve();
    event?.preventDefault();
    if (!newerRequest) newerRequest = fetchNewer().finally(() => (newerRequest = null));
    return newerRequest;
  }

  /** Newer pages until the list reaches the latest message (then it is live). */
  async function catchUp() {
    for (let page = 0; !live && page < CATCH_UP_PAGES; page++) {
      const before = newestSeq();
      await loadNewer();
      if (!live && newestSeq() === before) break; // the request failed: keep what is shown
    }
    if (!live) location.assign(`${paths.conversation(conversationId)}?latest=1`);
  }

  async function fetchNewer() {
    try {
      const url = `${historyUrl}?after=${newestSeq()}&limit=${HISTORY_LIMIT}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(`history answered ${response.status}`);
      const data = await response.json();
      const items = realMessages();
      const anchor = items[items.length - 1];
      const offset = anchor ? anchor.getBoundingClientRect().top : 0;
      for (const message of data.messages) {
        if (!findMessage(message.seq)) place(fillMessage(el("li"), message, viewer()), message.seq);
      }
      // Keep what the reader was looking at where it was.
      if (anchor) scroller.scrollTop += anchor.getBoundingClientRect().top - offset;
      if (!data.has_more) becomeLive();
      listChanged();
    } catch (error) {
      console.error("chat: loading newer messages failed", error);
    }
  }

  /** Caught up with the latest: new messages are appended from now on, as on the latest page. */
  function becomeLive() {
    live = true;
    root.dataset.live = "true";
    newerLink?.closest(".history-nav")?.remove();
    qs("#newer-notice")?.remove();
    if (state.missedLive) {
      state.missedLive = false;
      refreshNewest();
    }
  }

  /** Messages that arrived while we were not live and that the last page did not hold. */
  async function refreshNewest() {
    const response = await fetch(`${historyUrl}?after=${newestSeq()}&limit=${REFRESH_LIMIT}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).catch(() => null);
    if (!response || !response.ok) return;
    for (const message of (await response.json()).messages) showMessage(message);
  }

  /**
   * After a reconnect: `sync` brings the messages that are new, but edits and deletions
   * of ones already on screen happened while away are only in the history endpoint.
   */
  async function refreshShown() {
    const items = realMessages().slice(-REFRESH_LIMIT);
    if (!items.length) return;
    const after = toInt(items[0].dataset.seq) - 1;
    try {
      const response = await fetch(`${historyUrl}?after=${after}&limit=${REFRESH_LIMIT}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const data = await response.json();
      for (const message of data.messages) {
        const item = findMessage(message.seq);
        if (item && changed(item, message)) updateMessage(message);
      }
    } catch (error) {
      console.error("chat: refreshing messages after reconnecting failed", error);
    }
  }

  function changed(item, message) {
    if (message.deleted) return !item.classList.contains("deleted");
    const edited = qs(".edited", item) !== null;
    // The body as the browser serializes the server's HTML: a rare false "changed" only redraws it.
    return Boolean(message.edited_at) !== edited || qs(".message-body", item)?.innerHTML !== message.html;
  }

  // ---- losing access ---------------------------------------------------------

  function onRemoved(frame) {
    if (frame.conversation !== conversationId || state.removed) return;
    state.removed = true;
    state.typers.clear();
    renderTyping();
    for (const node of qsa(".message-actions", list)) node.remove();
    for (const node of qsa("li.message.pending", list)) node.remove();
    olderLink?.closest(".history-nav")?.remove();
    if (form) {
      form.classList.add("disabled");
      form.setAttribute("aria-disabled", "true");
      for (const control of qsa("textarea, button, input", form)) control.disabled = true;
      if (textarea) textarea.placeholder = "You can no longer write here.";
    }
    const notice = el(
      "div",
      { class: "notice removed-notice", role: "alert", id: "removed-notice" },
      el("strong", { text: "You are no longer a member of this conversation." }),
      " New messages will not appear here. ",
      el("a", { href: paths.chats(), text: "Back to your chats" }),
    );
    if (form) form.before(notice);
    else list.after(notice);
  }

  // ---- wiring ----------------------------------------------------------------

  socket.on("hello", (frame) => {
    state.me = frame.user.id;
  });
  socket.on("message", (message) => {
    if (message.conversation !== conversationId) return;
    showMessage(message);
  });
  socket.on("status", (status) => {
    const text = status === "connected" ? SENDING_TEXT : WAITING_TEXT;
    for (const node of qsa("li.message.pending:not(.failed) .message-status", list)) node.textContent = text;
  });
  socket.on("ack", onAck);
  socket.on("send.error", onSendError);
  for (const type of ["message.edited", "message.deleted"]) {
    socket.on(type, ({ message }) => {
      if (!message || message.conversation !== conversationId) return;
      settleChange(message.seq);
      if (live) updateMessage(message);
    });
  }
  socket.on("error", onError);
  let connectedBefore = false;
  socket.on("hello", () => {
    state.changes = []; // the connection they were sent on is gone
    if (connectedBefore && live) refreshShown();
    connectedBefore = true;
  });
  socket.on("typing", onTyping);
  socket.on("reaction.changed", onReactionChanged);
  socket.on("read", onRead);
  socket.on("conversation.removed", onRemoved);

  list.addEventListener("click", onListClick);
  list.addEventListener("submit", onListSubmit);
  if (olderLink) {
    olderLink.addEventListener("click", loadOlder);
    autoLoadOlder({ scroller, link: olderLink, load: () => loadOlder() });
  }
  qs("#reply-cancel")?.addEventListener("click", (event) => {
    event.preventDefault();
    setReply(null);
  });
  if (newerLink) newerLink.addEventListener("click", loadNewer);
  if (form && textarea) {
    composerFiles = initComposerFiles(form, {
      dropTarget: qs(".conversation-main") || form,
      textarea,
      showError: showComposerError,
    });
    form.addEventListener("submit", onSubmit);
    textarea.addEventListener("keydown", onKeydown);
    textarea.addEventListener("input", onInput);
    autoGrow(textarea);
  }
  markMyMentions(list, state.me);
  decorateMessages(list); // in the browser's time zone when the viewer chose none
  const target = around === null ? null : findMessage(around);
  if (target) {
    target.classList.add("highlighted");
    target.scrollIntoView({ block: "center" });
  } else if (live) scrollToBottom();
}

function newestSeqOf(list) {
  const items = list.querySelectorAll("li.message[data-seq]");
  return items.length ? toInt(items[items.length - 1].dataset.seq) : 0;
}
