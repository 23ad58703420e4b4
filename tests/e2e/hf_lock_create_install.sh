# A model from a (private) Hugging Face Hub repository: lock pins the commit
# and lists the tree (paginated), create fetches LFS files through the CDN
# redirect and git files from the Hub, install puts them byte for byte under
# current/model/. The token reaches the Hub and never the CDN, which answers
# 400 to any Authorization header.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"

make_hub_repo hub org/llama-mini 3M 7
printf '{"tokens": ["hf_alice", "hf_bob"]}\n' > hub/hub.json
printf '{"private": true, "allowed_tokens": ["hf_alice"], "refs": ["main", "v1.0"]}\n' > hub/org/llama-mini.json
start_hub "$T/hub" 3
export HF_TOKEN=hf_alice
COMMIT=$(hub_commit org/llama-mini)
[[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]] || fail "emulator commit '$COMMIT'"

hf_manifest m.toml llama-mini org/llama-mini 'revision = "main"' \
  'include = ["*.safetensors", "*.json", "templates/"]' 'exclude = ["generation_config.json"]'
"$BUNDLER" lock m.toml -o m.lock.json >/dev/null 2>lock.err
grep -q "hf://org/llama-mini: pinned main to $COMMIT (7 files" lock.err || { cat lock.err; fail "no pin note"; }

python3 - "$COMMIT" "$HF_ENDPOINT" <<'PY'
import json, sys
commit, endpoint = sys.argv[1:]
lock = json.load(open("m.lock.json"))
src = [s for s in lock["sources"] if s["kind"] == "model"]
assert len(src) == 1, lock
s = src[0]
assert s["identity"] == {"source": "hf://org/llama-mini", "repo": "org/llama-mini", "revision": "main",
                         "commit": commit, "endpoint": endpoint}, s["identity"]
files = {f["path"]: f for f in s["files"]}
want = {"model/config.json", "model/tokenizer.json", "model/model.safetensors.index.json",
        "model/model-00001-of-00002.safetensors", "model/model-00002-of-00002.safetensors",
        "model/original/params.json", "model/templates/chat template+v1.jinja"}
# original/params.json matches "*.json" by its basename; README.md and generation_config.json are out.
assert set(files) == want, sorted(files)
t = files["model/templates/chat template+v1.jinja"]
assert t["origin"] == f"{endpoint}/org/llama-mini/resolve/{commit}/templates/chat%20template%2Bv1.jinja", t["origin"]
for p, f in files.items():
    assert len(f["sha256"]) == 64, f
    lfs = p.endswith(".safetensors")
    assert f["extra"]["lfs"] is lfs, f
    if lfs:
        assert f["extra"]["blob"] == f["sha256"] and "git_sha1" not in f["extra"], f
    else:
        assert len(f["extra"]["git_sha1"]) == 40 and f["extra"]["blob"] == f["extra"]["git_sha1"], f
PY

# The listing came in pages (3 entries each), every page with the token.
PAGES=$(grep -c 'hub GET /api/models/org/llama-mini/tree/' "$HUB_LOG")
[ "$PAGES" -ge 4 ] || fail "tree listing took $PAGES pages, expected pagination"
grep -q "tree/$COMMIT?recursive=true&cursor=" "$HUB_LOG" || fail "no cursor page requested"
if grep 'hub GET /api/' "$HUB_LOG" | grep -q 'auth=no'; then fail "an API request went without the token"; fi

setup_site
"$BUNDLER" create m.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q >/dev/null
# LFS files went through the CDN, with no Authorization header (it answers 400 to one).
[ "$(grep -c '^cdn GET .* status=200' "$HUB_LOG")" -eq 2 ] || { cat "$HUB_LOG"; fail "expected 2 CDN downloads"; }
if grep '^cdn ' "$HUB_LOG" | grep -qv 'auth=no'; then fail "the token reached the CDN"; fi
if grep -q 'status=400' "$HUB_LOG"; then fail "the CDN refused a request"; fi
grep -q "^hub GET /org/llama-mini/resolve/$COMMIT/model-00001-of-00002.safetensors range=- auth=yes status=302" "$HUB_LOG" ||
  fail "the LFS file was not asked from the Hub with the token"
# The guard itself: a request with Authorization is refused by the CDN.
CDN_URL=$(grep -o "^cdn GET [^ ]*" "$HUB_LOG" | head -1 | cut -d' ' -f3)
python3 - "http://127.0.0.1:$CDN_PORT$CDN_URL" <<'PY'
import sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer hf_alice"})
try:
    urllib.request.urlopen(req)
    sys.exit("the CDN accepted an Authorization header")
except urllib.error.HTTPError as e:
    assert e.code == 400, e.code
PY

"$INSTALLER" install b -q >/dev/null
CUR="$AIRLOCK_ROOT/deployments/llama-mini/current/model"
for f in config.json tokenizer.json model.safetensors.index.json model-00001-of-00002.safetensors \
  model-00002-of-00002.safetensors original/params.json "templates/chat template+v1.jinja"; do
  cmp "hub/org/llama-mini/$f" "$CUR/$f" || fail "$f differs from the Hub's"
done
[ ! -e "$CUR/README.md" ] && [ ! -e "$CUR/generation_config.json" ] || fail "excluded files were installed"

# Again from the lock: everything is cached, nothing goes over the network.
LINES=$(wc -l < "$HUB_LOG")
"$BUNDLER" fetch m.lock.json -q >/dev/null 2>&1
[ "$(wc -l < "$HUB_LOG")" = "$LINES" ] || fail "fetch of a cached lock went to the network"

# A tag and the commit itself pin the same commit; the token may come from $HF_HOME/token.
unset HF_TOKEN
mkdir -p "$HF_HOME" && printf '  hf_alice \n' > "$HF_HOME/token"
hf_manifest t.toml llama-mini org/llama-mini 'revision = "v1.0"' 'include = ["*.json"]'
"$BUNDLER" lock t.toml -o t.lock.json >/dev/null 2>&1
hf_manifest c.toml llama-mini org/llama-mini "revision = \"$COMMIT\"" 'include = ["config.json"]'
"$BUNDLER" lock c.toml -o c.lock.json >/dev/null 2>&1
for l in t.lock.json c.lock.json; do
  grep -q "\"commit\": *\"$COMMIT\"" $l || fail "$l does not record $COMMIT"
done
grep -q '"revision": *"v1.0"' t.lock.json || fail "the lock lost the revision as given"
pass "lock pins $COMMIT, create and install from the Hub emulator; no token on the CDN; paginated listing"
