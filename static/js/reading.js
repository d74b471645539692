// Read markers that follow what was on screen, and opening at the first unread message.
//
// A message counts as seen once at least half of it (or, for a message taller than the
// screen, half the screen) has been in view while the tab was visible. The highest seq
// seen goes to the server in a `read` frame (docs/protocol.md), which moves the marker
// forward only; nothing is marked read just because the page holds it. Browsers that run
// the scripts say so through a cookie (static/js/scripts_on.js), so the server leaves the
// marker to this module; without scripts, the server marks read up to the last message
// it rendered.
//
// Hooks: li.message[data-seq] in ol#messages, li#unread-divider (templates/messaging/conversation.html).

import { qs, toInt } from "./dom.js";

const SEEN_RATIO = 0.5;
const CONTEXT_SHOWN = 0.15; // the share of the list above the divider when opening at it

export function initReading(socket, root) {
  const conversationId = toInt(root.dataset.conversationId);
  const list = qs("#messages");
  if (!list || !("IntersectionObserver" in window)) return;
  let seen = 0; // the highest seq that has been on screen
  let sent = 0; // the highest seq sent in a `read` frame
  let removed = false;
  const inView = new Set(); // message elements seen enough right now

  function flush() {
    if (removed || document.visibilityState !== "visible") return;
    for (const item of inView) seen = Math.max(seen, toInt(item.dataset.seq, 0));
    if (seen <= sent) return;
    if (socket.send({ type: "read", conversation: conversationId, seq: seen })) sent = seen;
  }

  function seenEnough(entry) {
    if (!entry.isIntersecting) return false;
    if (entry.intersectionRatio >= SEEN_RATIO) return true;
    const screen = entry.rootBounds ? entry.rootBounds.height : window.innerHeight;
    return entry.intersectionRect.height >= screen * SEEN_RATIO;
  }

  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (seenEnough(entry)) inView.add(entry.target);
        else inView.delete(entry.target);
      }
      flush();
    },
    { threshold: [0, 0.25, 0.5, 0.75, 1] },
  );

  function watch(node) {
    if (node.nodeType === Node.ELEMENT_NODE && node.matches("li.message[data-seq]")) observer.observe(node);
  }

  for (const item of list.querySelectorAll("li.message[data-seq]")) observer.observe(item);
  // Messages arrive live, from history pages, and as pending sends that get their seq: watch each.
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") watch(record.target);
      for (const node of record.addedNodes) watch(node);
      for (const node of record.removedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        observer.unobserve(node);
        inView.delete(node);
      }
    }
  }).observe(list, { childList: true, attributes: true, attributeFilter: ["data-seq"], subtree: true });

  socket.on("hello", flush); // a frame that could not go out while disconnected goes now
  socket.on("conversation.removed", (frame) => {
    if (frame.conversation === conversationId) removed = true;
  });
  document.addEventListener("visibilitychange", flush);

  // Opened at the first unread message (not at a search result): start at the divider.
  const divider = qs("#unread-divider", list);
  if (divider && root.dataset.around === undefined) {
    divider.scrollIntoView({ block: "start" });
    const scroller = qs("#messages-scroll");
    if (scroller) scroller.scrollTop -= Math.round(scroller.clientHeight * CONTEXT_SHOWN); // a little of what came before
  }
}
