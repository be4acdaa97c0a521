// SGraph Send upload page. The file is encrypted in the browser with AES-256-GCM (WebCrypto); the server
// receives IV(12) || ciphertext+tag and never the key, which travels only in the share link's #fragment.
// The core (sendEncryptAndUpload) also runs under node, which is how the end-to-end tests exercise it.
"use strict";

// send-server rewrites the next line when SEND_FAULT has frontend-no-encrypt or frontend-leak-key.
const FRONTEND_FAULTS = {};

const SEND_IV_BYTES = 12;

function sendBase64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// Encrypts `fileBytes` (Uint8Array) and uploads it: create -> upload -> complete.
// opts: {apiBase: "" for same origin, accessToken}. Returns {transferId, key, sharePath}.
async function sendEncryptAndUpload(fileBytes, opts) {
  const apiBase = opts.apiBase || "";
  const subtle = globalThis.crypto.subtle;
  let body = fileBytes;
  let keyText = "";
  if (!FRONTEND_FAULTS.noEncrypt) {
    const key = await subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(SEND_IV_BYTES));
    const cipher = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv }, key, fileBytes));
    body = new Uint8Array(SEND_IV_BYTES + cipher.length);
    body.set(iv, 0);
    body.set(cipher, SEND_IV_BYTES);
    keyText = sendBase64url(new Uint8Array(await subtle.exportKey("raw", key)));
  }
  const auth = { "x-sgraph-access-token": opts.accessToken };
  const post = async (url, init) => {
    const res = await fetch(apiBase + url, { method: "POST", ...init });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  };
  const created = await post("/api/transfers/create", {
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ file_size_bytes: body.length, content_type_hint: "application/octet-stream" }),
  });
  let uploadUrl = created.upload_url;
  if (FRONTEND_FAULTS.leakKey) uploadUrl += "?key=" + encodeURIComponent(keyText);
  await post(uploadUrl, { headers: { ...auth, "content-type": "application/octet-stream" }, body });
  await post("/api/transfers/complete/" + created.transfer_id, { headers: auth });
  return {
    transferId: created.transfer_id,
    key: keyText,
    sharePath: "/en-gb/download/#" + created.transfer_id + "/" + keyText,
  };
}

if (typeof document !== "undefined") {
  const $ = (id) => document.getElementById(id);
  const tokenInput = $("access-token");
  tokenInput.value = sessionStorage.getItem("sgraph-send-access-token") || "";
  $("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("file").files[0];
    if (!file) return;
    sessionStorage.setItem("sgraph-send-access-token", tokenInput.value);
    $("status").textContent = "Encrypting and uploading...";
    $("result").hidden = true;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const sent = await sendEncryptAndUpload(bytes, { accessToken: tokenInput.value });
      const link = location.origin + sent.sharePath;
      $("share-link").href = link;
      $("share-link").textContent = link;
      $("result").hidden = false;
      $("status").textContent = "Uploaded.";
    } catch (err) {
      $("status").textContent = "Upload failed: " + err.message;
    }
  });
}

if (typeof module !== "undefined") module.exports = { sendEncryptAndUpload, FRONTEND_FAULTS };
