// Files in the composer and in messages.
//
// Composer: the file input (picker button), drag-and-drop onto the conversation and paste
// into the text box upload each file at once to the form's data-upload-url, one request per
// file, with a progress bar and a cancel button; a refusal says why and keeps the text.
// The message then names the uploaded ids (`attachments`): over the socket, or as hidden
// `attachments` fields when the form posts. A send the server refuses gives its files back to
// the tray (`take` / `restore`), with its text, and the composer says why. Without JavaScript the same input posts the
// files with the form (multipart/form-data).
//
// Messages: `attachmentsNode(message)` builds ul.attachments the way
// messaging/attachment_markup.py renders it.

import { csrfToken, el, toInt } from "./dom.js";
import { paths } from "./urls.js";

const THUMBNAIL_WIDTH = 320; // settings.ATTACHMENT_THUMBNAIL_WIDTH

export function formatSize(size) {
  let value = size;
  for (const unit of ["bytes", "KiB", "MiB", "GiB"]) {
    if (value < 1024 || unit === "GiB") return unit === "bytes" ? `${Math.floor(value)} bytes` : `${value.toFixed(1)} ${unit}`;
    value /= 1024;
  }
  return `${size} bytes`;
}

function thumbnailBox(width, height) {
  if (!width || !height) return [null, null];
  const scale = Math.min(THUMBNAIL_WIDTH / width, (2 * THUMBNAIL_WIDTH) / height, 1);
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** ul.attachments for a message's files, or null when it has none. */
export function attachmentsNode(message) {
  const files = message.deleted ? [] : message.attachments || [];
  if (!files.length) return null;
  return el(
    "ul",
    { class: "attachments" },
    files.map((file) => {
      if (file.thumbnail_url) {
        const [width, height] = thumbnailBox(file.width, file.height);
        return el(
          "li",
          { class: "attachment image", dataset: { attachmentId: file.id } },
          el(
            "a",
            { href: file.url, target: "_blank", rel: "noopener", title: file.name },
            el("img", { src: file.thumbnail_url, alt: file.name, width, height, loading: "lazy" }),
          ),
        );
      }
      return el(
        "li",
        { class: "attachment file", dataset: { attachmentId: file.id } },
        el(
          "a",
          { href: file.url, download: file.name },
          el("span", { class: "file-icon", "aria-hidden": "true", text: "📄" }),
          el("span", { class: "file-name", text: file.name }),
          el("span", { class: "file-meta", text: `${formatSize(file.size)} · ${file.type}` }),
        ),
      );
    }),
  );
}

/**
 * Take over the composer's file input. Returns {ids(), busy(), clear(), addHiddenFields()}.
 * `showError(text)`: the composer's error line.
 */
export function initComposerFiles(form, { dropTarget, textarea, showError }) {
  const input = form.querySelector("input[type=file][name=files]");
  const uploadUrl = form.dataset.uploadUrl;
  if (!input || !uploadUrl || !window.XMLHttpRequest) return null;
  const maxFiles = toInt(form.dataset.maxFiles, 10);
  const maxBytes = toInt(form.dataset.maxFileBytes, 0);
  // Files go up one by one as they are chosen; the input itself is never posted with the form.
  input.removeAttribute("name");
  input.classList.add("enhanced"); // hidden: the picker button (its label) opens it
  const tray = el("ul", { class: "upload-tray", "aria-label": "Files to send", hidden: true });
  form.prepend(tray);
  const uploads = []; // {file, item, xhr, id, state: "uploading" | "done" | "failed"}

  function refreshTray() {
    tray.hidden = uploads.length === 0;
  }

  // `byUser`: the remove button, not a send emptying the tray (whose files now belong to the message).
  function remove(upload, { byUser = false } = {}) {
    if (upload.xhr && upload.state === "uploading") upload.xhr.abort();
    if (byUser && upload.state === "done" && upload.id) discard(upload.id);
    const index = uploads.indexOf(upload);
    if (index >= 0) uploads.splice(index, 1);
    upload.item.remove();
    refreshTray();
  }

  // A finished upload the user removes is deleted on the server at once, so it stops counting
  // in their quota (left alone, cleanup_attachments would delete it after a day).
  function discard(id) {
    fetch(paths.attachmentDiscard(id), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      credentials: "same-origin",
    }).catch(() => {});
  }

  function fail(upload, text) {
    upload.state = "failed";
    upload.item.classList.add("failed");
    upload.status.textContent = text;
    upload.bar.hidden = true;
    showError(`${upload.file.name}: ${text}`);
  }

  function add(file) {
    if (uploads.length >= maxFiles) {
      showError(`A message can have at most ${maxFiles} files.`);
      return;
    }
    const status = el("span", { class: "upload-status", text: "uploading…" });
    const bar = el("progress", { class: "upload-progress", max: "100", value: "0" });
    const upload = { file, state: "uploading", id: null, status, bar, xhr: null };
    const cancel = el("button", {
      type: "button",
      class: "link-button upload-cancel",
      "aria-label": `Remove ${file.name}`,
      title: "Remove",
      text: "×",
      on: { click: () => remove(upload, { byUser: true }) },
    });
    upload.item = el(
      "li",
      { class: "upload" },
      el("span", { class: "upload-name", text: file.name }),
      el("span", { class: "upload-size", text: formatSize(file.size) }),
      bar,
      status,
      cancel,
    );
    uploads.push(upload);
    tray.append(upload.item);
    refreshTray();
    if (maxBytes && file.size > maxBytes) {
      fail(upload, `too large (${formatSize(file.size)}); files can be at most ${formatSize(maxBytes)}.`);
      return;
    }
    send(upload);
  }

  function send(upload) {
    const xhr = new XMLHttpRequest();
    upload.xhr = xhr;
    const data = new FormData();
    data.append("file", upload.file, upload.file.name);
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) upload.bar.value = Math.round((100 * event.loaded) / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body && body.attachment) {
        upload.state = "done";
        upload.id = body.attachment.id;
        upload.bar.value = 100;
        upload.bar.hidden = true;
        upload.status.textContent = "ready";
        upload.item.classList.add("done");
        form.dispatchEvent(new CustomEvent("attachments:ready"));
      } else {
        fail(upload, (body && body.detail) || `the upload failed (${xhr.status}).`);
      }
    });
    xhr.addEventListener("error", () => fail(upload, "the upload failed: check the connection and try again."));
    xhr.send(data);
  }

  function addFiles(files) {
    for (const file of files) add(file);
  }

  input.addEventListener("change", () => {
    addFiles(Array.from(input.files || []));
    input.value = "";
  });
  if (textarea) {
    textarea.addEventListener("paste", (event) => {
      const files = Array.from(event.clipboardData?.files || []);
      if (!files.length) return;
      event.preventDefault();
      addFiles(files);
    });
  }
  const target = dropTarget || form;
  target.addEventListener("dragover", (event) => {
    if (!event.dataTransfer || !Array.from(event.dataTransfer.types || []).includes("Files")) return;
    event.preventDefault();
    target.classList.add("drop-target");
  });
  target.addEventListener("dragleave", (event) => {
    if (event.target === target) target.classList.remove("drop-target");
  });
  target.addEventListener("drop", (event) => {
    target.classList.remove("drop-target");
    const files = Array.from(event.dataTransfer?.files || []);
    if (!files.length) return;
    event.preventDefault();
    addFiles(files);
  });

  return {
    /** Ids of the files uploaded and ready to send. */
    ids: () => uploads.filter((u) => u.state === "done").map((u) => u.id),
    busy: () => uploads.some((u) => u.state === "uploading"),
    failed: () => uploads.some((u) => u.state === "failed"),
    /** After a send: the tray empties (the files now belong to the message). */
    clear() {
      for (const upload of [...uploads]) remove(upload);
    },
    /** On a send: the ready files leave the tray with the message, kept for `restore`. */
    take() {
      const taken = uploads.filter((u) => u.state === "done");
      for (const upload of taken) {
        uploads.splice(uploads.indexOf(upload), 1);
        upload.item.remove();
      }
      refreshTray();
      return taken;
    },
    /** A send that failed: its files come back to the tray, ready to send again. */
    restore(taken) {
      for (const upload of taken) {
        if (uploads.length >= maxFiles) break;
        uploads.push(upload);
        tray.append(upload.item);
      }
      refreshTray();
    },
    /** For the form's own post (socket down): the ids as hidden `attachments` fields. */
    addHiddenFields() {
      for (const old of form.querySelectorAll("input[type=hidden][name=attachments]")) old.remove();
      for (const id of this.ids()) form.append(el("input", { type: "hidden", name: "attachments", value: id }));
    },
  };
}
