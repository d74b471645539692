// Keyboard first: the message list as one tab stop with arrow keys inside (roving tabindex),
// Escape closing menus, the quick switcher (Ctrl/Cmd+K), Alt+Up/Down between conversations
// (with Shift: unread ones), and the "?" dialog that lists all of it.
//
// Actions on a message reuse its own links (a.message-edit, a.message-reply), so they behave as a
// click would: inline over the socket, or the plain pages without it.

import { PeopleCombobox } from "./combobox.js";
import { el, qs, qsa } from "./dom.js";

const SHORTCUTS = [
  ["Ctrl+K / ⌘K", "Switch to a conversation or person"],
  ["Alt+↑ / Alt+↓", "Previous / next conversation"],
  ["Alt+Shift+↑ / Alt+Shift+↓", "Previous / next unread conversation"],
  ["↑ in an empty composer", "Edit your last message"],
  ["Enter / Shift+Enter", "Send / new line"],
  ["Escape", "Close a menu or dialog, cancel an edit"],
  ["↑ / ↓, Home / End", "Move between messages (in the message list)"],
  ["E / R", "Edit / reply to the message in focus"],
  ["?", "Show these shortcuts"],
];
const SWITCHER_LIMIT = 8;
const CONTROLS = "a[href], button, summary, input:not([type=hidden]), textarea, select";

export function initKeyboard() {
  const list = document.getElementById("messages");
  if (list) initMessageList(list);
  focusComposerOnOpen();
  document.addEventListener("keydown", onKeydown);
  // "Skip to composer": into the text box itself, not only its neighbourhood.
  for (const link of qsa('a.skip-link[href="#id_body"]')) {
    link.addEventListener("click", (event) => {
      const composer = document.getElementById("id_body");
      if (!composer || composer.disabled) return;
      event.preventDefault();
      composer.focus();
    });
  }
}

function editable(node) {
  return node instanceof HTMLElement && (node.isContentEditable || node.matches("input, textarea, select"));
}

function onKeydown(event) {
  if (event.defaultPrevented || event.isComposing) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "k") {
    event.preventDefault();
    openSwitcher();
  } else if (event.altKey && !event.ctrlKey && !event.metaKey && (key === "ArrowUp" || key === "ArrowDown")) {
    if (goToConversation(key === "ArrowUp" ? -1 : 1, event.shiftKey)) event.preventDefault();
  } else if (key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !editable(event.target)) {
    event.preventDefault();
    openShortcuts();
  } else if (key === "Escape") {
    closeMenus(event);
  }
}

/** Escape: an open message menu or reaction picker closes, and focus goes back to its button. */
function closeMenus(event) {
  const open = qsa("details[open]").filter((details) => details.closest("#messages, .message"));
  if (!open.length) return;
  event.preventDefault();
  for (const details of open) details.open = false;
  const focusInside = open.find((details) => details.contains(document.activeElement));
  (focusInside || open[open.length - 1]).querySelector("summary")?.focus();
}

/** Opening a conversation puts the cursor in the composer (not on phones: no keyboard popping up). */
function focusComposerOnOpen() {
  const composer = qs("#composer textarea[name=body]");
  const root = qs("[data-conversation-id]");
  if (!composer || composer.disabled || !root || root.dataset.around !== undefined) return;
  if (location.hash || document.activeElement !== document.body) return;
  if (!window.matchMedia("(pointer: fine)").matches) return;
  composer.focus({ preventScroll: true });
}

// ---- conversations: Alt+Up/Down, Alt+Shift+Up/Down -------------------------------------------

function goToConversation(step, unreadOnly) {
  const rows = qsa("#conversation-list li.conversation-row[data-conversation-id]");
  if (!rows.length) return false;
  const openId = qs("main[data-conversation-id]")?.dataset.conversationId;
  let index = rows.findIndex((row) => row.dataset.conversationId === openId);
  if (index < 0) index = step > 0 ? -1 : rows.length;
  for (let i = index + step; i >= 0 && i < rows.length; i += step) {
    if (unreadOnly && !rows[i].classList.contains("has-unread")) continue;
    const link = qs("a[href]", rows[i]);
    if (!link) continue;
    location.assign(link.href);
    return true;
  }
  return false;
}

// ---- the message list: one tab stop, arrow keys inside -----------------------------------------

function initMessageList(list) {
  let current = null; // the message that holds the list's tab stop
  let scheduled = false;

  const items = () => qsa("li.message", list);

  function sync() {
    scheduled = false;
    const all = items();
    if (!current || !current.isConnected || !list.contains(current)) {
      const around = qs("li.message.highlighted", list);
      current = around || all[all.length - 1] || null;
    }
    for (const item of all) {
      const active = item === current;
      item.tabIndex = active ? 0 : -1;
      // The current message's own controls stay in the tab order; the others' are reached from it.
      for (const control of qsa(CONTROLS, item)) {
        if (active && control.dataset.roving) {
          control.removeAttribute("tabindex");
          delete control.dataset.roving;
        } else if (!active && !control.hasAttribute("tabindex")) {
          control.tabIndex = -1;
          control.dataset.roving = "1";
        }
      }
    }
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(sync);
  }

  function moveTo(item) {
    if (!item) return;
    current = item;
    sync();
    item.focus();
  }

  list.addEventListener("focusin", (event) => {
    const item = event.target.closest("li.message");
    if (item && item !== current) {
      current = item;
      sync();
    }
  });
  list.addEventListener("keydown", (event) => {
    const item = event.target.closest("li.message");
    if (!item || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target !== item) {
      // From a control inside a message, Escape closes its menu (back to the menu's button), or
      // goes back to the message.
      if (event.key === "Escape" && !event.defaultPrevented && !editable(event.target)) {
        event.preventDefault();
        const menu = event.target.closest("details[open]");
        if (menu) {
          menu.open = false;
          menu.querySelector("summary")?.focus();
        } else item.focus();
      }
      return;
    }
    const all = items();
    const index = all.indexOf(item);
    const keys = {
      ArrowUp: () => moveTo(all[index - 1]),
      ArrowDown: () => moveTo(all[index + 1]),
      Home: () => moveTo(all[0]),
      End: () => moveTo(all[all.length - 1]),
      e: () => qs("a.message-edit", item)?.click(),
      r: () => qs("a.message-reply", item)?.click(),
    };
    const action = keys[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
  new MutationObserver(schedule).observe(list, { childList: true, subtree: true });
  sync();
}

// ---- the quick switcher (Ctrl/Cmd+K) ---------------------------------------------------------

function fold(text) {
  return (text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

/** The people picker's combobox, offering the sidebar's conversations and people: Enter opens one. */
class QuickSwitcher extends PeopleCombobox {
  constructor(field, url, dialog) {
    super(field, url);
    this.dialog = dialog;
  }

  conversations(query) {
    const folded = fold(query);
    return qsa("#conversation-list li.conversation-row[data-conversation-id]")
      .map((row) => ({
        kind: "conversation",
        name: qs(".conversation-name", row)?.textContent.trim() || "",
        href: qs("a[href]", row)?.href,
        unread: row.classList.contains("has-unread"),
      }))
      .filter((item) => item.href && fold(item.name).includes(folded));
  }

  async fetch() {
    const query = this.field.value.trim().replace(/^[@#]/, "");
    if (this.request) this.request.abort();
    const request = new AbortController();
    this.request = request;
    let people = [];
    if (query && this.url) {
      try {
        const params = new URLSearchParams({ q: query, limit: String(SWITCHER_LIMIT) });
        const response = await fetch(`${this.url}?${params}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          signal: request.signal,
        });
        if (response.ok) people = (await response.json()).people || [];
      } catch (error) {
        if (error.name === "AbortError") return;
      }
    }
    if (request !== this.request || document.activeElement !== this.field) return;
    const found = this.conversations(query).slice(0, SWITCHER_LIMIT);
    this.show([...found, ...people.map((person) => ({ kind: "person", ...person }))]);
  }

  show(options) {
    this.options = options;
    this.active = -1;
    this.listbox.replaceChildren(
      ...options.map((option, index) =>
        el(
          "li",
          {
            id: `${this.listbox.id}-${index}`,
            role: "option",
            class: `combobox-option switcher-${option.kind}`,
            "aria-selected": "false",
            dataset: { index: String(index), kind: option.kind },
          },
          option.kind === "conversation"
            ? [el("span", { class: "combobox-name", text: option.name }), option.unread ? el("span", { class: "switcher-unread", text: " · unread" }) : null]
            : [
                el("span", { class: "combobox-name", text: option.display_name || option.username }),
                " ",
                el("span", { class: "combobox-username", text: `@${option.username}` }),
              ],
        ),
      ),
    );
    const open = options.length > 0;
    this.listbox.hidden = !open;
    this.field.setAttribute("aria-expanded", String(open));
    this.field.removeAttribute("aria-activedescendant");
    if (open) this.move(1); // Enter opens the first match
    this.status.textContent = open ? `${options.length} match${options.length === 1 ? "" : "es"}.` : "No matches.";
  }

  onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.dialog.close();
      return;
    }
    if (event.key === "Tab") return; // stay open: the dialog keeps focus inside
    super.onKey(event);
  }

  pick(index) {
    const option = this.options[index];
    if (!option) return;
    if (option.kind === "conversation") {
      location.assign(option.href);
      return;
    }
    const form = document.getElementById("quick-switcher-direct");
    if (!form) return;
    form.elements.username.value = option.username;
    form.submit(); // POST: the direct conversation with them, created if needed
  }
}

let switcher = null;

function openSwitcher() {
  if (!switcher) {
    const dialog = el("dialog", { id: "quick-switcher", class: "quick-switcher", "aria-labelledby": "quick-switcher-title" });
    const field = el("input", {
      id: "quick-switcher-input",
      type: "text",
      class: "quick-switcher-input",
      placeholder: "Conversation or person",
      spellcheck: "false",
    });
    dialog.append(
      el("h2", { id: "quick-switcher-title", class: "visually-hidden", text: "Switch to" }),
      el("label", { for: field.id, class: "quick-switcher-label", text: "Switch to a conversation or person" }),
      field,
      el("p", { class: "muted small", text: "↑ ↓ to choose, Enter to open, Escape to close." }),
    );
    document.body.append(dialog);
    const combobox = new QuickSwitcher(field, document.body.dataset.peopleSearchUrl || "", dialog);
    dialog.addEventListener("close", () => {
      combobox.close();
      switcher.returnTo?.focus?.();
    });
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
    switcher = { dialog, field, combobox, returnTo: null };
  }
  if (switcher.dialog.open) return;
  switcher.returnTo = document.activeElement;
  switcher.field.value = "";
  switcher.dialog.showModal();
  switcher.field.focus();
  switcher.combobox.fetch();
}

// ---- the "?" dialog --------------------------------------------------------------------------

let shortcuts = null;

function openShortcuts() {
  if (!shortcuts) {
    const close = el("button", { type: "button", class: "button small", text: "Close" });
    shortcuts = el(
      "dialog",
      { id: "shortcuts-dialog", class: "shortcuts-dialog", "aria-labelledby": "shortcuts-title" },
      el("h2", { id: "shortcuts-title", text: "Keyboard shortcuts" }),
      el(
        "dl",
        { class: "shortcuts" },
        SHORTCUTS.flatMap(([keys, what]) => [el("dt", {}, el("kbd", { text: keys })), el("dd", { text: what })]),
      ),
      close,
    );
    const returnTo = { node: null };
    shortcuts.returnTo = returnTo;
    close.addEventListener("click", () => shortcuts.close());
    shortcuts.addEventListener("close", () => returnTo.node?.focus?.());
    document.body.append(shortcuts);
  }
  if (shortcuts.open) return;
  shortcuts.returnTo.node = document.activeElement;
  shortcuts.showModal();
}
