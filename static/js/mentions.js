// @-mention suggestions in the conversation's composer: the people pickers' combobox
// (combobox.js, "mention" mode) on the message box, asking /people/search/ for the people who
// can see this conversation, with `@all` in a group's conversation. Set up before the
// conversation's own keys (conversation.js), so Enter picks a highlighted suggestion instead
// of sending. Without JavaScript, `@username` typed by hand works the same.

import { PeopleCombobox } from "./combobox.js";
import { qs } from "./dom.js";

export function initMentionSuggestions(root) {
  const url = document.body.dataset.peopleSearchUrl;
  const textarea = qs("#composer textarea[name=body]");
  if (!url || !textarea || !root.dataset.conversationId) return null;
  textarea.dataset.peoplePicker = "mention";
  textarea.dataset.peopleConversation = root.dataset.conversationId;
  textarea.dataset.peopleAll = String(root.dataset.kind === "group");
  return new PeopleCombobox(textarea, url);
}
