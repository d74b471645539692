// People pickers: every input or textarea marked `data-people-picker` becomes an ARIA 1.2
// combobox (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/) with suggestions from the
// people search endpoint. The field keeps its name and stays a plain form field: the server
// accepts usernames and display names, so typing without picking works too, and without
// JavaScript nothing here runs.
//
// "one": the field holds one person; picking puts their username in it.
// "multiple": entries separated by commas, semicolons or line breaks (spaces belong to a
// name); suggestions are for the entry being typed, and picking replaces it with the username.
// "mention": the message composer. Suggestions open only for an `@name` being typed at the
// caret, from the people who can see the conversation (`data-people-conversation`), with
// `@all` first in a group's conversation (`data-people-all`); picking puts `@username ` in
// its place. Enter and Tab pick only while an option is active, so Enter still sends.

import { el, qsa } from "./dom.js";

const DEBOUNCE_MS = 150;
const LIMIT = 8;
const SEPARATOR = /[,;\n\r]/;
// An `@name` being typed: after the start or a space/punctuation, letters of a username (messaging/rendering.py MENTION).
const MENTION_AT_CARET = /(^|[^A-Za-z0-9_.\-@])@([A-Za-z0-9_.\-]*)$/;
const ALL = { id: null, username: "all", display_name: "Everyone in this conversation" };

let counter = 0;

export function initPeoplePickers(root = document) {
  const url = document.body.dataset.peopleSearchUrl;
  if (!url) return [];
  return qsa("[data-people-picker]", root).map((field) => new PeopleCombobox(field, url));
}

export class PeopleCombobox {
  constructor(field, url) {
    this.field = field;
    this.url = url;
    this.multiple = field.dataset.peoplePicker === "multiple";
    this.mention = field.dataset.peoplePicker === "mention";
    this.options = [];
    this.active = -1;
    this.timer = null;
    this.request = null;
    const id = `people-picker-${++counter}`;

    this.listbox = el("ul", {
      id: `${id}-listbox`,
      role: "listbox",
      class: "combobox-listbox",
      "aria-label": "Suggestions",
      hidden: true,
    });
    this.status = el("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    if (this.mention) {
      // The composer lays out its children itself: the list opens above the field, in the form.
      this.listbox.classList.add("combobox-above");
      field.after(this.listbox, this.status);
    } else {
      const wrapper = el("div", { class: "combobox" });
      field.replaceWith(wrapper);
      wrapper.append(field, this.listbox, this.status);
    }

    if (this.mention) {
      // A textarea takes no role but textbox (ARIA in HTML), and a textbox has no aria-expanded: the
      // composer's suggestions are announced through the list it controls and its active option.
      field.setAttribute("aria-haspopup", "listbox");
    } else {
      field.setAttribute("role", "combobox");
      field.setAttribute("aria-expanded", "false");
    }
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", this.listbox.id);
    field.setAttribute("autocomplete", "off");

    field.addEventListener("input", () => this.schedule());
    if (this.mention) field.addEventListener("click", () => this.schedule());
    field.addEventListener("keydown", (event) => this.onKey(event));
    field.addEventListener("blur", () => this.close());
    // Keep focus in the field while an option is clicked.
    this.listbox.addEventListener("mousedown", (event) => event.preventDefault());
    this.listbox.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  /** The entry being typed: the whole field, or in "multiple" mode the part after the last separator. */
  currentEntry() {
    const value = this.field.value;
    if (this.mention) {
      const end = this.field.selectionEnd ?? value.length;
      const match = MENTION_AT_CARET.exec(value.slice(0, end));
      if (!match) return null;
      return { start: end - match[2].length - 1, end, text: match[2] };
    }
    if (!this.multiple) return { start: 0, text: value };
    const end = this.field.selectionEnd ?? value.length;
    let start = end;
    while (start > 0 && !SEPARATOR.test(value[start - 1])) start -= 1;
    return { start, end, text: value.slice(start, end) };
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(), DEBOUNCE_MS);
  }

  async fetch() {
    const entry = this.currentEntry();
    const query = entry ? entry.text.trim().replace(/^@/, "") : "";
    // A mention lists suggestions from its first letter on (and `@all` right after the `@`).
    if (!query && !(this.mention && entry)) {
      this.close();
      return;
    }
    const offerAll = this.mention && this.field.dataset.peopleAll === "true";
    const extra = offerAll && ALL.username.startsWith(query.toLowerCase()) ? [ALL] : [];
    if (!query) {
      if (document.activeElement === this.field) this.show(extra);
      return;
    }
    if (this.request) this.request.abort();
    const request = new AbortController();
    this.request = request;
    let people = [];
    try {
      const params = new URLSearchParams({ q: query, limit: String(LIMIT) });
      // A picker for one group's members (transfer) asks for those only.
      if (this.field.dataset.peopleGroup) params.set("group", this.field.dataset.peopleGroup);
      if (this.field.dataset.peopleConversation) params.set("conversation", this.field.dataset.peopleConversation);
      const response = await fetch(`${this.url}?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: request.signal,
      });
      if (!response.ok) throw new Error(`people search: ${response.status}`);
      people = (await response.json()).people || [];
    } catch (error) {
      if (error.name === "AbortError") return;
      people = []; // throttled or offline: the plain field still works
    }
    if (request !== this.request || document.activeElement !== this.field) return;
    this.show([...extra, ...people]);
  }

  show(people) {
    this.options = people;
    this.active = -1;
    this.listbox.replaceChildren(
      ...people.map((person, index) =>
        el(
          "li",
          {
            id: `${this.listbox.id}-${index}`,
            role: "option",
            class: "combobox-option",
            "aria-selected": "false",
            dataset: { index: String(index), username: person.username },
          },
          el("span", { class: "combobox-name", text: person.display_name || person.username }),
          " ",
          el("span", { class: "combobox-username", text: `@${person.username}` }),
        ),
      ),
    );
    const open = people.length > 0;
    this.listbox.hidden = !open;
    this.setExpanded(open);
    this.field.removeAttribute("aria-activedescendant");
    this.status.textContent = open
      ? `${people.length} suggestion${people.length === 1 ? "" : "s"}. Use the up and down arrows to choose.`
      : "No matches.";
  }

  close() {
    clearTimeout(this.timer);
    if (this.request) this.request.abort();
    this.request = null;
    this.listbox.hidden = true;
    this.setExpanded(false);
    this.field.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  setExpanded(open) {
    if (!this.mention) this.field.setAttribute("aria-expanded", String(open));
  }

  isOpen() {
    return !this.listbox.hidden && this.options.length > 0;
  }

  move(step) {
    if (!this.isOpen()) return;
    const count = this.options.length;
    this.active = this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count;
    for (const [index, option] of Array.from(this.listbox.children).entries()) {
      const selected = index === this.active;
      option.setAttribute("aria-selected", String(selected));
      option.classList.toggle("is-active", selected);
      if (selected) option.scrollIntoView({ block: "nearest" });
    }
    this.field.setAttribute("aria-activedescendant", `${this.listbox.id}-${this.active}`);
  }

  onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.isOpen() && this.mention) return; // the caret moves between lines as usual
      if (!this.isOpen()) {
        if (event.key === "ArrowDown") {
          event.preventDefault();
          this.fetch();
        }
        return;
      }
      event.preventDefault();
      this.move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" || (this.mention && event.key === "Tab")) {
      if (this.isOpen() && this.active >= 0 && !event.shiftKey) {
        event.preventDefault(); // pick, do not submit the form (nor send the message)
        event.stopImmediatePropagation();
        this.pick(this.active);
      } else if (event.key === "Tab") {
        this.close();
      }
    } else if (event.key === "Escape") {
      if (this.isOpen()) {
        event.preventDefault();
        event.stopImmediatePropagation();
        this.close();
      }
    } else if (event.key === "Tab") {
      this.close();
    }
  }

  pick(index) {
    const person = this.options[index];
    if (!person) return;
    const entry = this.mention ? this.currentEntry() : null;
    if (entry) {
      const value = this.field.value;
      const inserted = `@${person.username} `;
      const after = value.slice(entry.end).replace(/^[A-Za-z0-9_.\-]*\s?/, "");
      this.field.value = value.slice(0, entry.start) + inserted + after;
      const caret = entry.start + inserted.length;
      this.field.setSelectionRange(caret, caret);
    } else if (this.mention) {
      return;
    } else if (this.multiple) {
      const { start, end } = this.currentEntry();
      const value = this.field.value;
      const before = value.slice(0, start);
      const after = value.slice(end).replace(/^[^,;\n\r]*/, "");
      const lead = before && !/\s$/.test(before) ? " " : "";
      const inserted = `${lead}${person.username}, `;
      this.field.value = before + inserted + after.replace(/^[,;]\s*/, "");
      const caret = (before + inserted).length;
      this.field.setSelectionRange(caret, caret);
    } else {
      this.field.value = person.username;
    }
    this.status.textContent = `${person.display_name || person.username} (@${person.username}) chosen.`;
    this.close();
    this.field.dispatchEvent(new Event("change", { bubbles: true }));
  }
}
