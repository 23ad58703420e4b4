# A Hub model is judged like a local one: lock reads the small files it
# fetches (auto_map in config.json) and judges the large ones by name;
# create reads every file's bytes after fetching it, so a pickle renamed
# weights.dat is refused there, naming it, with nothing written.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
source "$HERE/../support/hub_setup.sh"

make_hub_repo hub org/custom 1M 1
python3 - hub/org/custom/config.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["auto_map"] = {"AutoModel": "modeling_x.X"}
json.dump(c, open(sys.argv[1], "w"))
PY
make_hub_repo hub org/pickled 1M 2
python3 -c 'import pickle,sys; sys.stdout.buffer.write(pickle.dumps({"a": 1}, protocol=4) * 4096)' > hub/org/pickled/weights.dat
start_hub "$T/hub"
"$BUNDLER" keygen --out "$T/pub" >/dev/null

hf_manifest custom.toml custom org/custom
expect_fail 1 "model/config.json: auto_map in config.json: custom code" "$BUNDLER" lock custom.toml -o custom.lock.json
[ ! -e custom.lock.json ] || fail "a lock was written for a repo with auto_map"
hf_manifest custom.toml custom org/custom 'allow_remote_code = true'
"$BUNDLER" lock custom.toml -o custom.lock.json >/dev/null
"$BUNDLER" create custom.lock.json -o out-custom --sign "$T/pub.key" --no-encrypt -q >/dev/null
"$BUNDLER" inspect out-custom | grep -q "weights    remote code  model/config.json (auto_map in config.json" ||
  fail "inspect lacks the Hub model's auto_map"

hf_manifest pickled.toml pickled org/pickled
expect_fail 1 "model/weights.dat: pickle protocol 4: code runs when it is loaded" \
  "$BUNDLER" create pickled.toml -o out-pickled --sign "$T/pub.key" --no-encrypt -q
[ ! -e out-pickled ] || [ -z "$(ls -A out-pickled)" ] || fail "create wrote into out-pickled"

pass "Hub models: auto_map refused at lock, shipped and shown with allow_remote_code; a renamed pickle refused at create"
