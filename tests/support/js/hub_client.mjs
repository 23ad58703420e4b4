// Drives the Hub emulator (tests/support/hub_emulator.py) with the official
// @huggingface/hub client, as tests/e2e/hf_js_client.sh runs it:
//   node hub_client.mjs ENDPOINT REPO REVISION SRC_DIR CACHE_DIR
// Prints one JSON object: what each call returned, for the shell to check.
// Exits 1 with the failing call named when the client throws.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  downloadFile,
  downloadFileToCacheDir,
  fileExists,
  listFiles,
  modelInfo,
  pathsInfo,
  scanCacheDir,
  snapshotDownload,
} from "@huggingface/hub";

const [endpoint, repo, revision, srcDir, cacheDir] = process.argv.slice(2);
// The client reports each download with console.debug, on stdout: keep stdout for the JSON.
console.debug = (...args) => console.error(...args);
const hubUrl = endpoint;
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const out = {};

async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    console.error(`${name}: ${e.stack ?? e}`);
    process.exit(1);
  }
}

await step("modelInfo", async () => {
  const info = await modelInfo({ name: repo, hubUrl, additionalFields: ["sha"] });
  return { id: info.name ?? info.id, sha: info.sha };
});
await step("modelInfoAtRevision", async () => {
  const info = await modelInfo({ name: repo, hubUrl, revision, additionalFields: ["sha"] });
  return { sha: info.sha };
});
await step("listFiles", async () => {
  const files = [];
  for await (const f of listFiles({ repo, hubUrl, revision, recursive: true, expand: true })) {
    files.push({ path: f.path, type: f.type, size: f.size, oid: f.oid, lfs: f.lfs?.oid ?? null,
                 lastCommit: f.lastCommit?.id ?? null });
  }
  return files;
});
await step("fileExists", async () => ({
  config: await fileExists({ repo, hubUrl, revision, path: "config.json" }),
  missing: await fileExists({ repo, hubUrl, revision, path: "no-such-file.json" }),
}));
await step("pathsInfo", async () => {
  const infos = await pathsInfo({ repo, hubUrl, revision, paths: ["config.json", "model.safetensors.index.json"],
                                  expand: true });
  return infos.map((p) => ({ path: p.path, size: p.size, oid: p.oid, lfs: p.lfs?.oid ?? null,
                             lastCommit: p.lastCommit?.id ?? null }));
});
await step("downloadFile", async () => {
  const blob = await downloadFile({ repo, hubUrl, revision, path: "config.json" });
  const bytes = Buffer.from(await blob.arrayBuffer());
  return { same: bytes.equals(readFileSync(join(srcDir, "config.json"))) };
});
await step("downloadFileToCacheDir", async () => {
  const path = await downloadFileToCacheDir({ repo, hubUrl, revision, path: "model.safetensors.index.json",
                                              cacheDir });
  return { path, same: readFileSync(path).equals(readFileSync(join(srcDir, "model.safetensors.index.json"))) };
});
await step("snapshotDownload", async () => {
  const dir = await snapshotDownload({ repo, hubUrl, revision, cacheDir });
  const files = [];
  for await (const f of listFiles({ repo, hubUrl, revision, recursive: true })) {
    if (f.type !== "file") continue;
    files.push({ path: f.path, same: sha256(readFileSync(join(dir, f.path))) === sha256(readFileSync(join(srcDir, f.path))) });
  }
  return { dir, files };
});
await step("scanCacheDir", async () => {
  const scan = await scanCacheDir(cacheDir);
  return scan.repos.map((r) => ({ id: r.id.name, type: r.id.type, files: r.filesCount, size: r.size,
                                  revisions: r.revisions.map((v) => ({ commit: v.commitOid, refs: v.refs,
                                                                        files: v.files.map((f) => f.path.split("/").pop()).sort() })) }));
});
console.log(JSON.stringify(out, null, 2));
