// Desktop notifications: for a new message from someone else, while this tab is in the
// background, in a conversation that is not muted, at the level the user chose on the
// settings page (direct messages and mentions by default, all messages, or nothing).
// The browser's permission is asked only after the user clicks "Turn on". With several
// tabs open, only the tab focused last shows it (one notification per message).

import { qs } from "./dom.js";
import { mentionsMe } from "./render.js";
import { paths } from "./urls.js";

const LEVEL_KEY = "chatsite.notifications";
const FOCUS_KEY = "chatsite.focusedTab";
const RECENT_MS = 2 * 60 * 1000; // older messages arriving through `sync` after a reconnect stay quiet
const SNIPPET_LENGTH = 120;
const tabId = Math.random().toString(36).slice(2);

function level() {
  try {
    return localStorage.getItem(LEVEL_KEY) || "mentions";
  } catch {
    return "mentions";
  }
}

function claimFocus() {
  try {
    localStorage.setItem(FOCUS_KEY, tabId);
  } catch {
    // storage unavailable: every tab may notify
  }
}

function elected() {
  try {
    const focused = localStorage.getItem(FOCUS_KEY);
    return !focused || focused === tabId;
  } catch {
    return true;
  }
}

/** The message's text as people read it: the server's HTML, parsed inert, as plain text. */
function plainText(message) {
  const doc = new DOMParser().parseFromString(`<body>${message.html || ""}</body>`, "text/html");
  const text = (doc.body.textContent || "").replace(/\s+/g, " ").trim();
  return text.length > SNIPPET_LENGTH ? `${text.slice(0, SNIPPET_LENGTH - 1)}…` : text;
}

function rowFor(conversationId) {
  return qs(`#conversation-list li[data-conversation-id="${conversationId}"]`);
}

/** Whether this message should notify, for this user, in this tab. */
export function shouldNotify(message, me, chosen = level()) {
  if (!message || message.deleted || !message.author || message.author.id === me) return false;
  if (chosen === "off") return false;
  const row = rowFor(message.conversation);
  if (row?.classList.contains("muted")) return false;
  const direct = row?.dataset.kind === "direct";
  if (chosen !== "all" && !direct && !mentionsMe(message, me)) return false;
  const at = Date.parse(message.created_at);
  return Number.isNaN(at) || Date.now() - at < RECENT_MS;
}

export function initNotifications(socket) {
  let me = null;
  claimFocus();
  window.addEventListener("focus", claimFocus);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) claimFocus();
  });
  socket.on("hello", (frame) => {
    me = frame.user.id;
  });
  socket.on("message", (message) => {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (!document.hidden && document.hasFocus()) return; // the person is looking at this tab
    if (!elected() || !shouldNotify(message, me)) return;
    const row = rowFor(message.conversation);
    const where = row ? qs(".conversation-name", row)?.textContent || "" : "";
    const who = message.author.display_name || message.author.username;
    const notification = new Notification(where ? `${who} in ${where}` : who, {
      body: plainText(message),
      tag: `chatsite-${message.conversation}-${message.seq}`,
    });
    notification.onclick = () => {
      window.focus();
      const page = paths.conversation(message.conversation);
      if (location.pathname === page) location.hash = `m${message.seq}`;
      else location.assign(`${page}#m${message.seq}`);
      notification.close();
    };
  });
}

/** The settings page's section: the level, and "Turn on" asking the browser's permission. */
export function initNotificationSettings(section) {
  section.hidden = false;
  const select = qs("#notify-level", section);
  const enable = qs("#notify-enable", section);
  const status = qs("#notify-status", section);
  const supported = "Notification" in window;
  const show = () => {
    if (!supported) status.textContent = "This browser cannot show notifications.";
    else if (Notification.permission === "granted") status.textContent = "On in this browser.";
    else if (Notification.permission === "denied") status.textContent = "Blocked in this browser's site settings.";
    else status.textContent = "Off: click “Turn on” to allow them.";
    enable.hidden = !supported || Notification.permission !== "default";
  };
  select.value = level();
  select.addEventListener("change", () => {
    try {
      localStorage.setItem(LEVEL_KEY, select.value);
    } catch {
      status.textContent = "This browser did not keep the choice.";
    }
  });
  enable.addEventListener("click", async () => {
    if (supported) await Notification.requestPermission();
    show();
  });
  show();
}
