// On every page, signed in or not: tell the server this browser runs the pages' scripts, so that
// the conversation page leaves the read marker to static/js/reading.js (what scrolls into view)
// instead of marking read everything it rendered (messaging/views.py SCRIPTS_READ_COOKIE).
// Loaded on the login page too: the first conversation opened after logging in counts.

const secure = location.protocol === "https:" ? "; Secure" : "";
document.cookie = `chat_js=1; path=/; SameSite=Lax${secure}`;
