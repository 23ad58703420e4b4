// node scan_cache.mjs HF_CACHE_DIR: what @huggingface/hub's scanCacheDir sees
// in a Hugging Face cache (an installed ROOT/hf), as JSON on stdout.
import { scanCacheDir } from "@huggingface/hub";

const scan = await scanCacheDir(process.argv[2]);
console.log(JSON.stringify(scan.repos.map((r) => ({
  id: r.id.name,
  type: r.id.type,
  size: r.size,
  revisions: r.revisions.map((v) => ({
    commit: v.commitOid,
    refs: [...v.refs].sort(),
    files: v.files.map((f) => ({ path: f.path, size: f.blob.size })),
  })),
}))));
