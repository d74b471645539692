// Destructive actions ask first. Each is a link to its confirmation page (`data-confirm`
// holds the question, `data-confirm-button` the button's label); with scripts on, the same
// question opens in a modal <dialog> whose button posts to the link's path, so the page
// and the dialog lead to the same POST. Escape or Cancel closes it and nothing happens.

import { csrfToken, el, qsa } from "./dom.js";

let dialog = null;

function build() {
  const text = el("p", { id: "confirm-dialog-text" });
  const token = el("input", { type: "hidden", name: "csrfmiddlewaretoken" });
  const submit = el("button", { type: "submit", class: "button danger" });
  const cancel = el("button", { type: "button", class: "button", text: "Cancel" });
  const form = el("form", { method: "post" }, token, el("div", { class: "form-actions" }, submit, cancel));
  const node = el(
    "dialog",
    { class: "confirm-dialog card", "aria-labelledby": "confirm-dialog-title", "aria-describedby": text.id },
    el("h2", { id: "confirm-dialog-title", text: "Are you sure?" }),
    text,
    form,
  );
  cancel.addEventListener("click", () => node.close());
  document.body.append(node);
  return { node, text, token, submit, cancel, form };
}

function ask(link) {
  dialog ??= build();
  dialog.text.textContent = link.dataset.confirm;
  dialog.submit.textContent = link.dataset.confirmButton || "Confirm";
  dialog.form.action = link.href;
  dialog.token.value = csrfToken();
  dialog.node.addEventListener("close", () => link.focus(), { once: true });
  dialog.node.showModal();
  dialog.cancel.focus(); // the safe choice has the focus
}

export function initConfirmations(root = document) {
  const links = qsa("a[data-confirm]", root);
  // Without a token to post with, the link's confirmation page still works.
  if (!links.length || !csrfToken()) return;
  for (const link of links) {
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      ask(link);
    });
  }
}
