// The settings page's time zone: while it is unset, preselect the browser's zone so saving
// the profile stores it. Nothing is saved until the user saves; they can pick "Not set".

import { el, qsa } from "./dom.js";

export function initTimeZoneDefault(root = document) {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return;
  }
  for (const select of qsa("select[data-browser-time-zone]", root)) {
    if (select.value || !zone) continue;
    if (!Array.from(select.options).some((option) => option.value === zone)) continue;
    select.value = zone;
    select.after(el("small", { class: "help", text: `Filled in from this browser (${zone}); save to keep it.` }));
  }
}
