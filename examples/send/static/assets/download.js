// SGraph Send download page. The link is /en-gb/download/#TRANSFER_ID/KEY: the key in the fragment is
// never sent to the server. The payload is IV(12) || AES-256-GCM ciphertext+tag, decrypted here.
// The core (sendDownloadAndDecrypt) also runs under node, which is how the end-to-end tests exercise it.
"use strict";

const SEND_DOWNLOAD_IV_BYTES = 12;

function sendFromBase64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// Fetches and decrypts a transfer; an empty key means the payload was stored unencrypted.
async function sendDownloadAndDecrypt(transferId, keyText, opts) {
  const apiBase = (opts && opts.apiBase) || "";
  const res = await fetch(apiBase + "/api/transfers/download/" + encodeURIComponent(transferId));
  if (!res.ok) throw new Error(`download: HTTP ${res.status}`);
  const payload = new Uint8Array(await res.arrayBuffer());
  if (!keyText) return payload;
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey("raw", sendFromBase64url(keyText), { name: "AES-GCM" }, false, ["decrypt"]);
  const iv = payload.slice(0, SEND_DOWNLOAD_IV_BYTES);
  const cipher = payload.slice(SEND_DOWNLOAD_IV_BYTES);
  return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv }, key, cipher));
}

if (typeof document !== "undefined") {
  const status = document.getElementById("status");
  const [transferId, keyText] = location.hash.replace(/^#/, "").split("/");
  if (!transferId) status.textContent = "This link has no transfer id.";
  document.getElementById("download-button").addEventListener("click", async () => {
    status.textContent = "Downloading and decrypting...";
    try {
      const bytes = await sendDownloadAndDecrypt(transferId, keyText || "");
      const url = URL.createObjectURL(new Blob([bytes]));
      const a = document.createElement("a");
      a.href = url;
      a.download = "sgraph-send-" + transferId;
      a.click();
      URL.revokeObjectURL(url);
      status.textContent = "Done.";
    } catch (err) {
      status.textContent = "Download failed: " + err.message;
    }
  });
}

if (typeof module !== "undefined") module.exports = { sendDownloadAndDecrypt };
