// A textarea that grows with what is typed, up to its CSS max-height (then it scrolls), and
// shrinks back when emptied: a 9-line message is fully visible while it is written.

/** Fit a textarea's height to its content now (after setting its value from a script too). */
export function fitHeight(textarea) {
  if (!textarea) return;
  const style = getComputedStyle(textarea);
  const border = Number.parseFloat(style.borderTopWidth) + Number.parseFloat(style.borderBottomWidth);
  const max = Number.parseFloat(style.maxHeight); // NaN for "none"
  textarea.style.height = "auto"; // measure the content, not the height it had
  const wanted = textarea.scrollHeight + border;
  textarea.style.height = `${Number.isFinite(max) ? Math.min(wanted, max) : wanted}px`;
  textarea.style.overflowY = Number.isFinite(max) && wanted > max ? "auto" : "hidden";
}

/** Keep a textarea fitted as it is typed in. */
export function autoGrow(textarea) {
  if (!textarea) return;
  textarea.addEventListener("input", () => fitHeight(textarea));
  fitHeight(textarea);
}
