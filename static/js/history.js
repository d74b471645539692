// History that flows on the conversation page: older messages load by themselves when the
// reader scrolls to the top (the "Load older messages" link stays for keyboards and no-JS),
// and a "jump to latest" button counts the messages that arrived while scrolled up.

import { el } from "./dom.js";

const PRELOAD_PX = 300; // start loading this far before the top is reached
const MAX_ROUNDS = 20; // pages loaded in a row while the top stays in view (a very tall screen)

/**
 * Load older messages whenever `link` (#older-link, at the top of the list) comes near view
 * inside `scroller`. `load()` returns a promise of whether it worked; it is called again while the link is still in
 * view after a page, and never twice at once.
 */
export function autoLoadOlder({ scroller, link, load }) {
  if (!link || !("IntersectionObserver" in window)) return null;
  let busy = false;
  let visible = false;
  async function run() {
    if (busy) return;
    busy = true;
    try {
      for (let round = 0; round < MAX_ROUNDS && visible && link.isConnected; round += 1) {
        if (!(await load())) break; // failed: the link says so and a click retries
        // The observer reports changes only: after a page, see for ourselves whether the top is still near.
        await nextFrame();
        visible = link.isConnected && nearView(link, scroller);
      }
    } finally {
      busy = false;
    }
  }
  const observer = new IntersectionObserver(
    (entries) => {
      visible = entries.some((entry) => entry.isIntersecting);
      if (visible) run();
    },
    { root: scroller, rootMargin: `${PRELOAD_PX}px 0px 0px 0px` },
  );
  observer.observe(link);
  return observer;
}

function nearView(node, scroller) {
  const box = node.getBoundingClientRect();
  const view = scroller.getBoundingClientRect();
  return box.bottom >= view.top - PRELOAD_PX && box.top <= view.bottom;
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

/**
 * The "jump to latest" button: shown when messages arrive while the reader is scrolled up,
 * with how many arrived; hidden again at the bottom. Returns {arrived(), hide()}.
 */
export function jumpToLatest({ scroller, reversed, nearBottom, scrollToBottom }) {
  let count = 0;
  const label = el("span", { class: "jump-latest-count" });
  const button = el("button", { type: "button", id: "jump-latest", class: "jump-latest", hidden: true }, label, " ↓");
  if (reversed) scroller.prepend(button);
  else scroller.append(button);

  function render() {
    label.textContent = `${count} new message${count === 1 ? "" : "s"} · Jump to latest`;
    button.dataset.count = String(count);
    button.hidden = count === 0;
  }

  function hide() {
    count = 0;
    render();
  }

  button.addEventListener("click", () => {
    scrollToBottom();
    hide();
    document.getElementById("id_body")?.focus({ preventScroll: true });
  });
  scroller.addEventListener("scroll", () => {
    if (count && nearBottom()) hide();
  });
  return {
    arrived() {
      count += 1;
      render();
    },
    hide,
  };
}

// ---- day dividers and grouping (messaging/markup.py message_items renders the same) ----------

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const formatters = new Map();

/** "YYYY-MM-DD" of a moment in a time zone (undefined: the browser's). */
export function dayKey(date, zone) {
  const key = zone || "";
  if (!formatters.has(key)) {
    let options = { year: "numeric", month: "2-digit", day: "2-digit" };
    try {
      new Intl.DateTimeFormat("en-US", { ...options, timeZone: zone || undefined });
      options = { ...options, timeZone: zone || undefined };
    } catch {
      // A zone this browser does not know: its own.
    }
    formatters.set(key, new Intl.DateTimeFormat("en-US", options));
  }
  const parts = Object.fromEntries(formatters.get(key).formatToParts(date).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function keyToUtc(key) {
  const [year, month, day] = key.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

/** "Today", "Yesterday", "Wednesday, December 2", with the year when it is not this one. */
export function dayLabel(key, todayKey) {
  if (key === todayKey) return "Today";
  const today = keyToUtc(todayKey);
  const day = keyToUtc(key);
  if (today.getTime() - day.getTime() === 86_400_000) return "Yesterday";
  const label = `${WEEKDAYS[day.getUTCDay()]}, ${MONTHS[day.getUTCMonth()]} ${day.getUTCDate()}`;
  return day.getUTCFullYear() === today.getUTCFullYear() ? label : `${label}, ${day.getUTCFullYear()}`;
}

function dividerFor(key, label) {
  return el("li", { class: "day-divider", dataset: { day: key } }, el("h2", { class: "day-label", text: label }));
}

/**
 * Day dividers before each day's first message and "continued" on a message grouped under the
 * one before it, for the whole list: run after messages arrive or load. Dividers already in the
 * right place are kept.
 */
export function decorateMessages(list, now = new Date()) {
  const zone = list.dataset.timeZone || undefined;
  const groupMs = (Number.parseInt(list.dataset.groupSeconds, 10) || 0) * 1000;
  const todayKey = dayKey(now, zone);
  const keep = new Set();
  let previous = null; // {key, author, at}
  for (const item of list.querySelectorAll("li.message[data-seq]")) {
    const at = new Date(item.querySelector("time.message-time")?.getAttribute("datetime") || "");
    if (Number.isNaN(at.getTime())) continue;
    const key = dayKey(at, zone);
    const author = item.dataset.authorId || "";
    const newDay = previous === null || previous.key !== key;
    if (newDay) {
      const label = dayLabel(key, todayKey);
      let divider = item.previousElementSibling;
      if (!(divider?.classList.contains("day-divider") && divider.dataset.day === key && divider.textContent === label)) {
        divider = dividerFor(key, label);
        item.before(divider);
      }
      keep.add(divider);
    }
    const gap = previous ? at.getTime() - previous.at : -1;
    const afterUnread = item.previousElementSibling?.id === "unread-divider"; // "New messages" starts a group
    item.classList.toggle(
      "continued",
      !newDay && !afterUnread && author !== "" && author === previous.author && gap >= 0 && gap <= groupMs,
    );
    previous = { key, author, at: at.getTime() };
  }
  for (const divider of list.querySelectorAll("li.day-divider")) if (!keep.has(divider)) divider.remove();
}
