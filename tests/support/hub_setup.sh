# Sourced by tests/e2e/hf_*.sh after common.sh: a Hugging Face Hub emulator
# (tests/support/hub_emulator.py) on loopback, and model repositories for it.
HUB_EMULATOR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/hub_emulator.py"

# Nothing from the user's own Hugging Face set-up may leak into a test.
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_TOKEN_PATH HF_ENDPOINT
export HF_HOME="$T/hf-home"
export AIRLOCK_CACHE="$T/cache"
export AIRLOCK_TEST_BACKOFF_MS=10

# start_hub ROOT [PAGE_SIZE]: the emulator serving ROOT/ORG/NAME/; sets
# HUB_PORT, CDN_PORT, HUB_LOG (one line per request) and exports HF_ENDPOINT.
start_hub() {
  local root=$1 page=${2:-1000}
  HUB_LOG="$T/hub.log"
  : > "$HUB_LOG"
  rm -f "$T/hub.ports"
  start_bg python3 "$HUB_EMULATOR" --root "$root" --ports-file "$T/hub.ports" --log "$HUB_LOG" --page-size "$page"
  local i
  for i in $(seq 100); do
    [ -s "$T/hub.ports" ] && break
    sleep 0.1
  done
  [ -s "$T/hub.ports" ] || fail "the Hub emulator did not start"
  read -r HUB_PORT CDN_PORT < "$T/hub.ports"
  export HF_ENDPOINT="http://127.0.0.1:$HUB_PORT"
}

# make_hub_repo ROOT ORG/NAME SIZE SEED: a model repository: bf16 safetensors
# shards and their index, config.json, tokenizer.json, generation_config.json
# (airlock-gen-safetensors), a README.md, and files in subfolders whose names
# need URL-encoding.
make_hub_repo() {
  local root=$1 repo=$2 size=$3 seed=$4
  local dir="$root/$repo"
  make_model "$dir" "$size" "$seed"
  printf -- '---\nlicense: apache-2.0\n---\n# %s\n' "$repo" > "$dir/README.md"
  mkdir -p "$dir/templates" "$dir/original"
  printf '{%% for m in messages %%}{{ m.content }}{%% endfor %%}\n' > "$dir/templates/chat template+v1.jinja"
  printf '{"dim": 64, "n_layers": 2, "seed": %s}\n' "$seed" > "$dir/original/params.json"
}

# hub_commit ORG/NAME [REV]: the commit the emulator pins REV (main) to.
hub_commit() {
  python3 - "$HF_ENDPOINT/api/models/$1/revision/${2:-main}" <<'PY'
import json, os, sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if os.environ.get("HF_TOKEN"):
    req.add_header("Authorization", "Bearer " + os.environ["HF_TOKEN"])
print(json.load(urllib.request.urlopen(req))["sha"])
PY
}

# hf_manifest FILE NAME REPO [EXTRA [model] LINES]
hf_manifest() {
  local file=$1 name=$2 repo=$3
  shift 3
  {
    printf '[deployment]\nname = "%s"\nversion = "1.0.0"\n\n[model]\nsource = "hf://%s"\n' "$name" "$repo"
    local line
    for line in "$@"; do printf '%s\n' "$line"; done
  } > "$file"
}
