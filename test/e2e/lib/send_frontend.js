// Runs the upload and download pages' own JavaScript, as served by a running send-server, under node:
//   node send_frontend.js BASE_URL ACCESS_TOKEN INPUT_FILE WORK_DIR
// Prints JSON: {transferId, key, uploadUrls, decryptedMatches}. WebCrypto and fetch are node's own.
"use strict";
const fs = require("fs");
const path = require("path");

// Debian bookworm ships node 18, where WebCrypto is not yet a global.
if (!globalThis.crypto || !globalThis.crypto.subtle) globalThis.crypto = require("crypto").webcrypto;

async function main() {
  const [base, token, inputFile, workDir] = process.argv.slice(2);
  const fetchAsset = async (name) => {
    const res = await fetch(base + "/assets/" + name);
    if (!res.ok) throw new Error(`GET /assets/${name}: HTTP ${res.status}`);
    const file = path.join(workDir, name);
    fs.writeFileSync(file, await res.text());
    return require(file);
  };
  const upload = await fetchAsset("upload.js");
  const download = await fetchAsset("download.js");

  // Record every URL the pages request, to see what reaches the server.
  const uploadUrls = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init) => {
    if (String(url).includes("/api/transfers/upload/")) uploadUrls.push(String(url));
    return realFetch(url, init);
  };

  const plain = new Uint8Array(fs.readFileSync(inputFile));
  const sent = await upload.sendEncryptAndUpload(plain, { apiBase: base, accessToken: token });
  const back = await download.sendDownloadAndDecrypt(sent.transferId, sent.key, { apiBase: base });
  const same = back.length === plain.length && back.every((b, i) => b === plain[i]);
  console.log(JSON.stringify({ transferId: sent.transferId, key: sent.key, uploadUrls, decryptedMatches: same }));
}

main().catch((err) => {
  console.error("send_frontend.js: " + err.message);
  process.exit(1);
});
