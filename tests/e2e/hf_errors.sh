# What goes wrong with a Hub source, each with a clear error naming the
# repository (and the file), a non-zero exit and no lock or bundle written:
# gated repositories without a token, with a token the Hub does not know and
# with one that has no access; missing and private repositories; a missing
# revision; globs that leave no file; a file the Hub no longer has; bad ids.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"

make_hub_repo hub org/gated 1M 1
make_hub_repo hub org/secret 1M 2
printf '{"tokens": ["hf_alice", "hf_bob"]}\n' > hub/hub.json
printf '{"gated": "manual", "allowed_tokens": ["hf_alice"]}\n' > hub/org/gated.json
printf '{"private": true, "allowed_tokens": ["hf_alice"]}\n' > hub/org/secret.json
start_hub "$T/hub"

# lock_fails CODE PATTERN MANIFEST: lock exits CODE naming PATTERN and writes no lock.
lock_fails() {
  expect_fail "$1" "$2" "$BUNDLER" lock "$3" -o out.lock.json
  [ ! -e out.lock.json ] || fail "a lock was written for $3"
}

hf_manifest gated.toml gated org/gated
lock_fails 1 "hf://org/gated: gated repository: set HF_TOKEN" gated.toml
HF_TOKEN=hf_bob lock_fails 1 'hf://org/gated: gated repository: your token \(from \$HF_TOKEN\) has no access; request access on the repo page' gated.toml
HF_TOKEN=hf_wrong lock_fails 1 'hf://org/gated: the Hub at .* rejected the token from \$HF_TOKEN' gated.toml
HUGGING_FACE_HUB_TOKEN=hf_wrong lock_fails 1 'rejected the token from \$HUGGING_FACE_HUB_TOKEN' gated.toml
mkdir -p "$HF_HOME" && printf 'hf_bob\n' > "$HF_HOME/token"
lock_fails 1 "your token \\(from $HF_HOME/token\\) has no access" gated.toml
rm "$HF_HOME/token"
HF_TOKEN=hf_alice "$BUNDLER" lock gated.toml -o gated.lock.json >/dev/null 2>&1 || fail "the granted token was refused"
# The token is needed again to fetch; without it the download fails naming the file.
setup_site
expect_fail 1 "hf://org/gated: model-0000[12]-of-00002.safetensors: .* wants a token .*set HF_TOKEN" \
  "$BUNDLER" create gated.lock.json -o b --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ -z "$(ls -A b 2>/dev/null)" ] || fail "a bundle was written without access"

hf_manifest missing.toml missing org/nothing-here
lock_fails 1 "hf://org/nothing-here: repository not found or private .*the Hub does not say which.*set HF_TOKEN" missing.toml
HF_TOKEN=hf_bob lock_fails 1 "hf://org/nothing-here: repository not found on .*, or the token from \\\$HF_TOKEN cannot see it" missing.toml
hf_manifest secret.toml secret org/secret
lock_fails 1 "hf://org/secret: repository not found or private" secret.toml
HF_TOKEN=hf_bob lock_fails 1 "hf://org/secret: repository not found" secret.toml
HF_TOKEN=hf_alice "$BUNDLER" lock secret.toml -o secret.lock.json >/dev/null 2>&1 || fail "private repo with its token"

hf_manifest rev.toml rev org/secret 'revision = "v9.9"'
HF_TOKEN=hf_alice lock_fails 1 "hf://org/secret: pinning revision 'v9.9': revision not found.*Invalid rev id: v9.9" rev.toml
hf_manifest rev2.toml rev org/secret 'revision = "0123456789abcdef0123456789abcdef01234567"'
HF_TOKEN=hf_alice lock_fails 1 "hf://org/secret: .*revision not found" rev2.toml

hf_manifest globs.toml globs org/secret 'include = ["*.gguf"]' 'exclude = ["*.json"]'
HF_TOKEN=hf_alice lock_fails 1 'hf://org/secret: none of the 9 files at commit [0-9a-f]{40} matches \[model\] include = \["\*.gguf"\], exclude = \["\*.json"\]' globs.toml

# A file the Hub does not have at the locked commit (an edited lock).
python3 - <<'PY'
import json
lock = json.load(open("secret.lock.json"))
files = lock["sources"][0]["files"]
f = dict(next(x for x in files if x["path"] == "model/config.json"))
f["path"] = "model/gone.json"
f["origin"] = f["origin"].rsplit("/", 1)[0] + "/gone.json"
f["sha256"] = "ab" * 32  # not in the cache
f["extra"] = {"lfs": True, "blob": f["sha256"]}
files.append(f)
json.dump(lock, open("gone.lock.json", "w"))
PY
HF_TOKEN=hf_alice expect_fail 1 "hf://org/secret: gone.json.*(Not Found|404)" \
  "$BUNDLER" create gone.lock.json -o b2 --sign "$T/pub.key" --to "$AIRLOCK_ROOT/keys/site.pub" -q
[ -z "$(ls -A b2 2>/dev/null)" ] || fail "a bundle was written with a missing file"

# A lock whose origins leave the endpoint would hand the token to another host.
python3 - <<'PY'
import json
lock = json.load(open("secret.lock.json"))
f = lock["sources"][0]["files"][0]
f["origin"] = "http://127.0.0.2:9/steal/" + f["path"]
json.dump(lock, open("evil.lock.json", "w"))
PY
HF_TOKEN=hf_alice expect_fail 1 "hf://org/secret: .*origin http://127.0.0.2:9/steal/.* is not under" \
  "$BUNDLER" fetch evil.lock.json -q

for bad in 'hf://org' 'hf://org/../x' 'hf://-org/name' 'hf://org/na--me' 'hf://org/name.git' 'hf://a/b/c'; do
  hf_manifest bad.toml bad "${bad#hf://}"
  lock_fails 1 "$bad" bad.toml
done
HF_ENDPOINT=http://192.0.2.1 lock_fails 1 "hf://org/secret.*HF_ENDPOINT" secret.toml
pass "gated, private, missing repo/revision/file, empty globs, unsafe locks and ids: clear errors, nothing written"
