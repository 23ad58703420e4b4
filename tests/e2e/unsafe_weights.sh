# Weights that run code when loaded are refused unless the manifest allows
# them: a pickle pytorch_model.bin (and one renamed weights.dat, judged by
# its bytes), a torch.save zip, custom code (auto_map, *.py); every bad
# safetensors header is refused naming the file and the tensor; nothing is
# written on refusal. What is let through is shown by inspect, and a GGUF
# file ships byte for byte with its quantization shown and no byte planes.
source "$(dirname "$0")/common.sh"
setup_site

no_output() { [ ! -e "$1" ] || [ -z "$(ls -A "$1")" ] || fail "$2: $1 was written: $(ls -A "$1")"; }
manifest() {  # manifest FILE VERSION MODEL_DIR [extra [model] lines]
  printf '[deployment]\nname = "demo"\nversion = "%s"\n\n[model]\nsource = "%s"\n%s' "$2" "$3" "${4:-}" > "$1"
}
pickle() { python3 -c 'import pickle,sys; sys.stdout.buffer.write(pickle.dumps({"a": 1}, protocol=4))' > "$1"; }

# 1. A pickle pytorch_model.bin and a renamed one: both named, by lock and create.
make_model pk 1M 1
pickle pk/pytorch_model.bin
pickle pk/weights.dat
manifest pk.toml 1.0.0 pk
expect_fail 1 "model/pytorch_model.bin: pickle protocol 4: code runs when it is loaded.*model/weights.dat: pickle protocol 4" \
  "$BUNDLER" lock pk.toml -o pk.lock.json
[ ! -e pk.lock.json ] || fail "a refused lock was written"
expect_fail 1 "refused 2 file\(s\): .*pytorch_model.bin.*weights.dat.*allow_pickle = true" \
  "$BUNDLER" create pk.toml -o out-pk --sign "$T/pub.key" --no-encrypt -q
no_output out-pk "pickle create"
manifest pk.toml 1.0.0 pk 'allow_pickle = true
'
"$BUNDLER" lock pk.toml -o pk.lock.json >/dev/null
bundle pk.lock.json b-pk 1
"$BUNDLER" inspect b-pk --key "$AIRLOCK_ROOT/keys" > inspect.out
grep -q "weights    pickle       model/pytorch_model.bin (pickle protocol 4" inspect.out || fail "inspect lacks the pickle flag"
grep -q "weights    pickle       model/weights.dat" inspect.out || fail "inspect lacks the renamed pickle"
"$BUNDLER" inspect b-pk --key "$AIRLOCK_ROOT/keys" --json | python3 -c '
import json, sys
w = json.load(sys.stdin)["weights"]
assert w["allow_pickle"] is True and w["allow_remote_code"] is False, w
assert sorted(e["path"] for e in w["pickle"]) == ["model/pytorch_model.bin", "model/weights.dat"], w
' || fail "inspect --json: the pickle record"

# 2. A torch.save zip (archive/data.pkl), whatever it is called.
mkdir tz && cp pk/config.json tz/
python3 - tz/model.pt <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/data/0", b"\0" * 64)
    z.writestr("archive/version", b"3\n")
PY
manifest tz.toml 1.0.0 tz
expect_fail 1 "model/model.pt: torch.save zip \(holds archive/data.pkl\)" \
  "$BUNDLER" create tz.toml -o out-tz --sign "$T/pub.key" --no-encrypt -q
no_output out-tz "torch zip"

# 3. Custom code: auto_map in config.json, a modeling_x.py.
make_model rc 1M 2
python3 - rc/config.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["auto_map"] = {"AutoModel": "modeling_x.X"}
json.dump(c, open(sys.argv[1], "w"))
PY
printf 'import os\n' > rc/modeling_x.py
manifest rc.toml 2.0.0 rc
expect_fail 1 "refused 2 file\(s\): .*model/config.json: auto_map in config.json.*model/modeling_x.py: Python file.*allow_remote_code = true" \
  "$BUNDLER" lock rc.toml -o rc.lock.json
expect_fail 1 "model/modeling_x.py: Python file" "$BUNDLER" create rc.toml -o out-rc --sign "$T/pub.key" --no-encrypt -q
no_output out-rc "remote code"
manifest rc.toml 2.0.0 rc 'allow_remote_code = true
'
bundle rc.toml b-rc 2
"$BUNDLER" inspect b-rc --key "$AIRLOCK_ROOT/keys" > inspect.out
grep -q "weights    remote code  model/config.json (auto_map in config.json" inspect.out || fail "inspect lacks auto_map"
grep -q "weights    remote code  model/modeling_x.py (Python file" inspect.out || fail "inspect lacks the .py"

# 4. Corrupt safetensors headers: each names the file and the tensor.
bad_st() {  # bad_st CASE: model dir bad-CASE with model.safetensors broken that way
  mkdir -p "bad-$1"
  python3 - "bad-$1/model.safetensors" "$1" <<'PY'
import json, struct, sys
path, case = sys.argv[1:]
t = {"lm_head.weight": {"dtype": "BF16", "shape": [4, 8], "data_offsets": [0, 64]},
     "norm.weight": {"dtype": "F32", "shape": [4], "data_offsets": [64, 80]}}
data = 80
if case == "size": t["lm_head.weight"]["data_offsets"] = [0, 60]; t["norm.weight"]["data_offsets"] = [60, 76]; data = 76
if case == "dtype": t["norm.weight"]["dtype"] = "Q4"
if case == "gap": t["norm.weight"]["data_offsets"] = [68, 84]; data = 84
if case == "outside": data = 70
h = json.dumps(t).encode()
if case == "dup": h = h[:-1] + b', "norm.weight": {"dtype": "F32", "shape": [4], "data_offsets": [64, 80]}}'
if case == "json": h = h[:-3]
if case == "meta": h = b'{"__metadata__": {"n": 1}, ' + h[1:]
open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"\1" * data)
PY
  manifest "bad-$1.toml" 1.0.0 "bad-$1"
}
check_bad() {  # check_bad CASE PATTERN
  bad_st "$1"
  expect_fail 1 "model/model.safetensors: $2" "$BUNDLER" create "bad-$1.toml" -o "out-$1" --sign "$T/pub.key" --no-encrypt -q
  no_output "out-$1" "bad safetensors ($1)"
  expect_fail 1 "model/model.safetensors: $2" "$BUNDLER" lock "bad-$1.toml" -o "bad-$1.lock.json"
  [ ! -e "bad-$1.lock.json" ] || fail "lock of a bad safetensors ($1) was written"
}
check_bad size 'tensor "lm_head.weight": shape \[4, 8\] x BF16 is 64 bytes, data_offsets give 60'
check_bad dtype 'tensor "norm.weight": unknown dtype "Q4"'
check_bad gap 'tensor "norm.weight": data_offsets \[68, 84\] leave a gap of 4 bytes after tensor "lm_head.weight"'
check_bad outside 'tensor "norm.weight": data_offsets \[64, 80\] lie outside'
check_bad dup 'tensor "norm.weight" appears twice'
check_bad json 'header is not valid JSON'
check_bad meta '__metadata__ "n" is not a string'
# allow_pickle and allow_remote_code do not let a bad header through.
manifest bad-size.toml 1.0.0 bad-size 'allow_pickle = true
allow_remote_code = true
'
expect_fail 1 "data_offsets give 60" "$BUNDLER" create bad-size.toml -o out-size --sign "$T/pub.key" --no-encrypt -q

# 5. A GGUF file ships, installs byte for byte, shows its quantization, is never byte-planed.
mkdir gg
printf '{"model_type": "llama"}\n' > gg/config.json
python3 - gg/model-Q4_K_M.gguf <<'PY'
import os, struct, sys
def s(x): return struct.pack("<Q", len(x)) + x
kv = [s(b"general.architecture") + struct.pack("<I", 8) + s(b"llama"),
      s(b"general.file_type") + struct.pack("<II", 4, 15)]
tensors = [(b"blk.0.attn_q.weight", 12), (b"blk.0.ffn_down.weight", 14), (b"output_norm.weight", 0)]
out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv)
for name, t in tensors:
    out += s(name) + struct.pack("<I", 2) + struct.pack("<QQ", 256, 4) + struct.pack("<IQ", t, 0)
out += b"\0" * (-len(out) % 32) + os.urandom(600 * 1024)  # BF16-like noise would tempt byte planes
open(sys.argv[1], "wb").write(out)
PY
manifest gg.toml 3.0.0 gg
bundle gg.toml b-gg 3
"$BUNDLER" inspect b-gg --key "$AIRLOCK_ROOT/keys" > inspect.out
grep -q "weights    gguf         model/model-Q4_K_M.gguf Q4_K_M (GGUF v3, 3 tensors: F32 1, Q4_K 1, Q6_K 1)" inspect.out ||
  { cat inspect.out >&2; fail "inspect lacks the GGUF quantization"; }
"$BUNDLER" inspect b-gg --key "$AIRLOCK_ROOT/keys" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert "byteplane" not in j["codecs"], j["codecs"]
g = j["weights"]["gguf"]
assert g[0]["quantization"] == "Q4_K_M" and g[0]["file_type"] == 15, g
' || fail "inspect --json: GGUF record or codecs"
"$INSTALLER" install b-gg >/dev/null 2>install.err || { cat install.err >&2; fail "install of the GGUF bundle"; }
cmp gg/model-Q4_K_M.gguf "$AIRLOCK_ROOT/deployments/demo/3.0.0/model/model-Q4_K_M.gguf" || fail "installed GGUF differs"

# 6. A truncated GGUF is refused naming the file, nothing written.
mkdir gt
head -c 60 gg/model-Q4_K_M.gguf > gt/model.gguf
manifest gt.toml 4.0.0 gt
expect_fail 1 "model/model.gguf: GGUF: truncated" "$BUNDLER" create gt.toml -o out-gt --sign "$T/pub.key" --no-encrypt -q
no_output out-gt "truncated GGUF"

pass "pickle, torch zip and custom code refused unless allowed, then shown; bad safetensors and GGUF refused naming file and tensor; GGUF ships with its quantization"
