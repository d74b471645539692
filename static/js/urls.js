// The site's paths, as the server spells them: templates/base.html puts them on <body> with
// {% url %} (data-*-url). A path with ids arrives as a template reversed with 0 in place of
// each id (data-*-url-template="/chats/0/messages/0/edit/", chatsite/paths.py); `fill` puts
// the real ids in, left to right. No path is written out in the scripts: tests/test_paths.py
// looks for them.

const PLACEHOLDER = "/0/";

function data(key) {
  const value = document.body.dataset[key];
  if (value === undefined) throw new Error(`chat: <body> has no data attribute for ${key}`);
  return value;
}

/** `template` with each "/0/" segment, left to right, replaced by the next of `ids`. */
export function fill(template, ...ids) {
  let result = template;
  let from = 0;
  for (const id of ids) {
    const at = result.indexOf(PLACEHOLDER, from);
    if (at < 0) throw new Error(`chat: ${template} has fewer ids than given`);
    const segment = `/${encodeURIComponent(String(id))}/`;
    result = result.slice(0, at) + segment + result.slice(at + PLACEHOLDER.length);
    from = at + segment.length - 1; // the segment's closing "/" opens the next one
  }
  return result;
}

export const paths = {
  chats: () => data("chatsUrl"),
  login: () => data("loginUrl"),
  socket: () => data("socketUrl"),
  conversation: (conversationId) => fill(data("conversationUrlTemplate"), conversationId),
  messageEdit: (conversationId, seq) => fill(data("messageEditUrlTemplate"), conversationId, seq),
  messageDelete: (conversationId, seq) => fill(data("messageDeleteUrlTemplate"), conversationId, seq),
  reactions: (conversationId, seq) => fill(data("reactionsUrlTemplate"), conversationId, seq),
  attachmentDiscard: (attachmentId) => fill(data("attachmentDiscardUrlTemplate"), attachmentId),
};
