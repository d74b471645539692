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
