// Elements the server's templates also render (templates/messaging/_message.html and
// _conversation_list.html), built here for messages and rows that arrive live.
// User text only ever goes in through textContent.

import { attachmentsNode } from "./attachments.js";
import { append, clear, el } from "./dom.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LINK_LIMIT = 60; // characters of a URL shown, like the server's linkify
// http(s) URLs and www. hosts; trailing punctuation stays outside the link.
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

const pad = (n) => String(n).padStart(2, "0");

/** "14:05" today, "Mar 3, 14:05" this year, "Mar 3 2024, 14:05" before: the server's chat_time, in local time. */
export function chatTime(date, now = new Date()) {
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (date.toDateString() === now.toDateString()) return clock;
  const day = `${MONTHS[date.getMonth()]} ${date.getDate()}`;
  if (date.getFullYear() === now.getFullYear()) return `${day}, ${clock}`;
  return `${day} ${date.getFullYear()}, ${clock}`;
}

function longTime(date) {
  return date.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}

/** Set a <time>'s text and title from its datetime, in the reader's time zone. */
export function localizeTime(node) {
  const date = new Date(node.getAttribute("datetime") || "");
  if (Number.isNaN(date.getTime())) return;
  node.textContent = chatTime(date);
  node.title = longTime(date);
}

/** The page renders times in the server's zone; show them in the reader's. */
export function localizeTimes(root = document) {
  for (const node of root.querySelectorAll("time.message-time[datetime], time.conversation-time[datetime]")) {
    localizeTime(node);
  }
}

function timeNode(iso, className) {
  const node = el("time", { class: className, datetime: iso });
  localizeTime(node);
  return node;
}

/** Text with its URLs as links that cannot reach back into the page (rel="noopener nofollow"). */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = url.match(TRAILING);
    if (trailing) url = url.slice(0, -trailing[0].length);
    if (!url) continue;
    const href = /^https?:\/\//i.test(url) ? url : `http://${url}`;
    append(fragment, text.slice(last, match.index));
    const shown = url.length > LINK_LIMIT ? `${url.slice(0, LINK_LIMIT - 1)}…` : url;
    append(fragment, el("a", { href, rel: "noopener nofollow", target: "_blank", text: shown }));
    last = match.index + url.length;
  }
  append(fragment, text.slice(last));
  return fragment;
}

export function initial(name) {
  const trimmed = (name || "?").trim();
  return trimmed ? trimmed[0].toUpperCase() : "?";
}

export function displayName(user) {
  if (!user || user.id === null || user.id === undefined) return user?.display_name || "deleted user";
  return user.display_name || user.username;
}

export function avatarColor(userId) {
  const n = Number.parseInt(userId, 10);
  return Number.isFinite(n) ? n % 8 : 0;
}

/**
 * Fill a message element the way _message.html renders it.
 * `viewer`: {me, canModerate, conversationId, csrf}.
 */
export function fillMessage(item, message, viewer) {
  const author = message.author || {};
  const mine = author.id !== null && author.id === viewer.me;
  item.className = ["message", mine ? "mine" : "", message.deleted ? "deleted" : ""].filter(Boolean).join(" ");
  item.id = `m${message.seq}`;
  item.dataset.seq = String(message.seq);
  item.dataset.id = String(message.id);
  item.dataset.authorId = author.id === null || author.id === undefined ? "" : String(author.id);
  delete item.dataset.clientId;
  clear(item);
  const name = displayName(author);
  const meta = el(
    "div",
    { class: "message-meta" },
    el("span", { class: "message-author", text: name }),
    timeNode(message.created_at, "message-time"),
    message.edited_at && !message.deleted
      ? el("span", { class: "edited", title: `Edited ${longTime(new Date(message.edited_at))}`, text: "(edited)" })
      : null,
  );
  const body = el("p", { class: "message-body" });
  if (message.deleted) body.textContent = "This message was deleted.";
  else body.append(linkify(message.body));
  append(
    item,
    el("span", { class: `chat-avatar avatar-${avatarColor(author.id)}`, "aria-hidden": "true", text: initial(name) }),
    el(
      "div",
      { class: "message-content" },
      meta,
      body,
      attachmentsNode(message),
      viewer.readOnly ? null : actions(message, mine, viewer),
    ),
  );
  return item;
}

function actions(message, mine, viewer) {
  if (message.deleted) return null;
  const base = `/chats/${viewer.conversationId}/messages/${message.seq}`;
  const canDelete = mine || viewer.canModerate;
  if (!canDelete) return null;
  return el(
    "details",
    { class: "message-actions" },
    el("summary", { "aria-label": "Message actions", title: "Message actions", text: "⋯" }),
    el(
      "div",
      { class: "message-menu" },
      mine ? el("a", { class: "message-edit", href: `${base}/edit/`, text: "Edit" }) : null,
      el(
        "form",
        { class: "message-delete", method: "post", action: `${base}/delete/` },
        el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: viewer.csrf }),
        el("button", { type: "submit", class: "link-button", text: mine ? "Delete" : "Delete (moderate)" }),
      ),
    ),
  );
}

/** A message being sent: shown at once, replaced by the real one on ack. */
export function pendingMessage(clientId, body, user) {
  const name = displayName(user);
  return el(
    "li",
    { class: "message mine pending", dataset: { clientId, body } },
    el("span", { class: `chat-avatar avatar-${avatarColor(user?.id)}`, "aria-hidden": "true", text: initial(name) }),
    el(
      "div",
      { class: "message-content" },
      el(
        "div",
        { class: "message-meta" },
        el("span", { class: "message-author", text: name }),
        el("span", { class: "message-status", text: "sending…" }),
      ),
      el("p", { class: "message-body" }, linkify(body)),
    ),
  );
}

/** A sidebar row the way _conversation_list.html renders it, for a conversation gained live. */
export function conversationRow(conversation) {
  const direct = conversation.kind === "direct";
  return el(
    "li",
    {
      class: "conversation-row",
      dataset: { conversationId: String(conversation.id), lastSeq: String(conversation.last_seq), kind: conversation.kind },
    },
    el(
      "a",
      { href: `/chats/${conversation.id}/` },
      el("span", {
        class: direct ? "chat-avatar avatar-0" : "chat-avatar avatar-topic",
        "aria-hidden": "true",
        text: direct ? initial(conversation.name) : "#",
      }),
      el("span", { class: "conversation-name", text: conversation.name }),
      el("time", { class: "conversation-time" }),
      el("span", { class: "conversation-preview", text: conversation.last_seq ? "" : "No messages yet" }),
      el("span", { class: "badge", hidden: true, "aria-label": "0 unread", text: "0" }),
    ),
  );
}

/** Update a sidebar row's time and preview from its newest message. */
export function setRowPreview(row, message) {
  const preview = row.querySelector(".conversation-preview");
  if (preview) preview.textContent = message.deleted ? "Message deleted" : truncate(message.body, 90);
  const time = row.querySelector("time.conversation-time");
  if (time && message.created_at) {
    time.setAttribute("datetime", message.created_at);
    localizeTime(time);
  }
  row.dataset.lastSeq = String(Math.max(Number(row.dataset.lastSeq) || 0, message.seq));
}

function truncate(text, limit) {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
