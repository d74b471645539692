// Entry point on every logged-in page: opens the tab's socket when the page shows
// the conversation list or a conversation, and wires the parts that are present.

import { initPeoplePickers } from "./combobox.js";
import { initMentionSuggestions } from "./mentions.js";
import { initConfirmations } from "./confirm.js";
import { initConversation } from "./conversation.js";
import { initKeyboard } from "./keyboard.js";
import { initMuteButton } from "./mute.js";
import { initNotificationSettings, initNotifications } from "./notify.js";
import { initUserUpdates } from "./people.js";
import { initReading } from "./reading.js";
import { el, qs, toInt } from "./dom.js";
import { localizeTimes } from "./render.js";
import { initSidebar } from "./sidebar.js";
import { ChatSocket } from "./socket.js";
import { initStarButton } from "./star.js";
import { initTimeZoneDefault } from "./timezone.js";
import { paths } from "./urls.js";

const BANNER_TEXT = {
  reconnecting: "Reconnecting… Until then, who is online is unknown and messages you send wait here.",
  closed: "You were signed out. Log in again to keep chatting.",
};

/** The visible "Reconnecting…" banner: the page's own #connection-banner, or one made here. */
function initBanner(socket) {
  let banner = document.getElementById("connection-banner");
  if (!banner) {
    banner = el("div", { id: "connection-banner", class: "banner", role: "status", hidden: true });
    const anchor = qs("header.topbar");
    if (anchor) anchor.after(banner);
    else document.body.prepend(banner);
  }
  banner.classList.add("connection-banner");
  banner.setAttribute("aria-live", "polite");
  const label = el("span", { class: "connection-text" });
  const retry = el("button", { type: "button", class: "link-button", text: "Retry now" });
  const login = el("a", { href: `${paths.login()}?next=${encodeURIComponent(location.pathname)}`, text: "Log in" });
  retry.addEventListener("click", () => socket.reconnectNow());
  banner.replaceChildren(label, " ", retry, login);
  socket.on("status", (status) => {
    const text = BANNER_TEXT[status];
    banner.hidden = !text;
    banner.dataset.status = status;
    label.textContent = text || "";
    retry.hidden = status !== "reconnecting";
    login.hidden = status !== "closed";
  });
}

function start() {
  localizeTimes();
  const notificationSettings = document.getElementById("notification-settings");
  if (notificationSettings) initNotificationSettings(notificationSettings);
  initPeoplePickers();
  initConfirmations();
  initTimeZoneDefault();
  initKeyboard();
  const list = document.getElementById("conversation-list");
  const messages = document.getElementById("messages");
  const root = messages ? messages.closest("[data-conversation-id]") : null;
  if (!list && !root) return;
  // A conversation page showing the newest messages syncs from its newest message after a reconnect.
  const live = root !== null && root.dataset.live !== "false";
  const cursors = live ? { [toInt(root.dataset.conversationId)]: toInt(root.dataset.lastSeq) } : {};
  const socket = new ChatSocket({ cursors });
  initBanner(socket);
  initNotifications(socket);
  initUserUpdates(socket);
  if (list) initSidebar(socket, list);
  if (root) initMentionSuggestions(root); // before the conversation's keys: Enter picks a suggestion
  if (root) {
    initConversation(socket, root);
    initReading(socket, root); // after: it may scroll to the first unread message
  }
  const muteForm = document.getElementById("mute-form");
  if (root && muteForm) initMuteButton(socket, muteForm, toInt(root.dataset.conversationId));
  const starForm = document.getElementById("star-form");
  if (root && starForm) initStarButton(socket, starForm, toInt(root.dataset.conversationId));
  socket.connect();
}

start();
