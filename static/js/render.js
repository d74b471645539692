// Elements the server also renders (messaging/markup.py), built here for messages and rows
// that arrive live. User text only ever goes in through textContent; a message body is the
// HTML the server rendered once when it was stored (`message.html`), never built here.

import { attachmentsNode } from "./attachments.js";
import { append, clear, el, serverHtml } from "./dom.js";
import { paths } from "./urls.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

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

/** Whether a message's server HTML mentions this user (by id, or everyone with @all). */
export function mentionsMe(message, me) {
  // The whole tag: a "<" in a body's text is always escaped, so only a real mention matches.
  const html = message?.html || "";
  const tag = (target) => `<span class="mention" data-mention="${target}">`;
  return html.includes(tag("all")) || (me !== null && html.includes(tag(me)));
}

/** Mark the mentions of the reader in a message body (their own highlight). */
export function markMyMentions(root, me) {
  for (const node of root.querySelectorAll("span.mention[data-mention]")) {
    const target = node.dataset.mention;
    node.classList.toggle("me", target === "all" || (me !== null && target === String(me)));
  }
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
 * A user's round avatar, as messaging/markup.py `avatar_html` renders it: their picture
 * (`avatar_url`), or the initial on their colour; "?" for a deleted account. `data-user-avatar`
 * lets people.js swap it when `user.updated` says the picture changed.
 */
export function avatar(user, name) {
  const id = user?.id;
  if (id === null || id === undefined) {
    return el("span", { class: `chat-avatar avatar-${avatarColor(id)}`, "aria-hidden": "true", text: "?" });
  }
  const dataset = { userAvatar: String(id) };
  if (user.avatar_url) return el("img", { class: "chat-avatar avatar-image", src: user.avatar_url, alt: "", dataset });
  return el("span", { class: `chat-avatar avatar-${avatarColor(id)}`, "aria-hidden": "true", text: initial(name), dataset });
}

/**
 * Fill a message element the way messaging/markup.py message_items renders it.
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
  if (mine && !message.deleted) item.dataset.body = message.body; // the Markdown source, for the edit box
  else delete item.dataset.body;
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
  const body = el("div", { class: "message-body" });
  const reply = message.deleted ? null : replyLine(message.reply_to, viewer.conversationId);
  if (message.deleted) body.textContent = "This message was deleted.";
  else {
    serverHtml(body, message.html);
    markMyMentions(body, viewer.me);
  }
  // The message object carries its reactions as this reader sees them; without them (an older
  // frame), keep the ones shown (reaction.changed updates them).
  const shownReactions = item.querySelector("form.reactions");
  clear(item);
  let reactions = null;
  if (!message.deleted && !viewer.readOnly) {
    reactions = shownReactions || el("form", { class: "reactions" });
    const given = Array.isArray(message.reactions) ? message.reactions : null;
    fillReactions(reactions, message.seq, given ?? (shownReactions ? null : []), viewer);
  }
  append(
    item,
    avatar(author, name),
    el(
      "div",
      { class: "message-content" },
      meta,
      reply,
      body,
      attachmentsNode(message),
      reactions,
      viewer.readOnly ? null : actions(message, mine, viewer),
    ),
  );
  return item;
}

/**
 * The reactions form under a message, as messaging/markup.py renders it: a toggle button per
 * emoji (`reactions` from `reaction.changed`; null keeps the buttons shown) and the picker.
 */
export function fillReactions(form, seq, reactions, viewer) {
  form.method = "post";
  form.action = paths.reactions(viewer.conversationId, seq);
  const buttons =
    reactions === null
      ? Array.from(form.querySelectorAll("button.reaction"))
      : reactions.map((reaction) =>
          el(
            "button",
            {
              type: "submit",
              name: "emoji",
              value: reaction.emoji,
              class: reaction.mine ? "reaction mine" : "reaction",
              "aria-pressed": reaction.mine ? "true" : "false",
            },
            `${reaction.emoji} `,
            el("span", { class: "reaction-count", text: String(reaction.count) }),
          ),
        );
  const picker = form.querySelector("details.reaction-picker") || reactionPicker(viewer.reactionChoices || []);
  picker.open = false;
  form.replaceChildren(
    el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: viewer.csrf }),
    ...buttons,
    picker,
    el("a", { class: "message-reply", href: `?reply_to=${seq}#composer`, text: "Reply" }),
  );
  return form;
}

/** "replying to @alice: first words…" above a reply, as messaging/markup.py renders it. */
export function replyLine(reply, conversationId) {
  if (!reply) return null;
  if (reply.deleted) return el("p", { class: "reply-to", text: "replying to a deleted message" });
  const text = `replying to @${reply.author?.username || "deleted"}: ${reply.snippet}`;
  return el(
    "p",
    { class: "reply-to" },
    el("a", { href: `${paths.conversation(conversationId)}?around=${reply.seq}#m${reply.seq}`, dataset: { seq: String(reply.seq) }, text }),
  );
}

function reactionPicker(choices) {
  return el(
    "details",
    { class: "reaction-picker" },
    el("summary", { "aria-label": "Add a reaction", title: "Add a reaction", text: "☺+" }),
    el(
      "div",
      { class: "reaction-choices" },
      choices.map((emoji) => el("button", { type: "submit", name: "emoji", value: emoji, class: "reaction-choice", text: emoji })),
    ),
  );
}

function actions(message, mine, viewer) {
  if (message.deleted) return null;
  const canDelete = mine || viewer.canModerate;
  if (!canDelete) return null;
  return el(
    "details",
    { class: "message-actions" },
    el("summary", { "aria-label": "Message actions", title: "Message actions", text: "⋯" }),
    el(
      "div",
      { class: "message-menu" },
      mine ? el("a", { class: "message-edit", href: paths.messageEdit(viewer.conversationId, message.seq), text: "Edit" }) : null,
      el(
        "form",
        { class: "message-delete", method: "post", action: paths.messageDelete(viewer.conversationId, message.seq) },
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
    avatar(user, name),
    el(
      "div",
      { class: "message-content" },
      el(
        "div",
        { class: "message-meta" },
        el("span", { class: "message-author", text: name }),
        el("span", { class: "message-status", text: "sending…" }),
      ),
      el("div", { class: "message-body as-typed", text: body }),
    ),
  );
}

/** A sidebar row the way messaging/markup.py conversation_rows renders it, for a conversation gained live. */
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
      { href: paths.conversation(conversation.id) },
      direct
        ? avatar(conversation.other_user, conversation.name)
        : el("span", { class: "chat-avatar avatar-topic", "aria-hidden": "true", text: "#" }),
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
