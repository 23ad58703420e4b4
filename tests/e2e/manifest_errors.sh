# Bad manifests: `create` exits 1, names the manifest and the key/table/field
# at fault, and leaves nothing in the output directory (no bundle, no temp dir).
source "$(dirname "$0")/common.sh"
"$BUNDLER" keygen --out "$T/pub" >/dev/null
make_model m 4M 1
mkdir serve && echo hi > serve/run.sh
D='[deployment]\nname = "demo"\nversion = "1.0.0"\n'
M='[model]\nsource = "m"\n'
F='[[files]]\nsource = "serve"\ndest = "serve"\n'
n=0
# bad PATTERN TOML [precreate]: stderr must match "MANIFEST: ...PATTERN".
bad() {
  n=$((n + 1))
  local f="man$n.toml" out="out$n"
  printf '%b' "$2" > "$f"
  if [ -n "${3:-}" ]; then mkdir "$out" && echo keep > "$out/README"; fi
  expect_fail 1 "$f: .*$1" "$BUNDLER" create "$f" -o "$out" --sign "$T/pub.key" --no-encrypt -q
  if [ -d "$out" ]; then
    left="$(find "$out" -mindepth 1 ! -name README)"
    [ -z "$left" ] || fail "case $n ($1): left in $out: $left"
  fi
}
bad "top level.*'colour'" "colour = \"red\"\n$D$M"
bad "'extras'" "${D}${M}[extras]\nx = 1\n"
bad "\[deployment\].*'owner'" "${D}owner = \"me\"\n$M"
bad "\[model\].*'shards'" "${D}${M}shards = 2\n" keep
bad "\[\[files\]\].*'owner'" "${D}${M}${F}owner = \"root\"\n"
for name in Demo a/b ..; do
  bad "\[deployment\] name.*'$(printf '%s' "$name" | sed 's/[.]/[.]/g')'" \
      "[deployment]\nname = \"$name\"\nversion = \"1.0.0\"\n$M"
done
for version in "1.0/x" ".." "1.0 beta" ""; do
  bad "\[deployment\] version" "[deployment]\nname = \"demo\"\nversion = \"$version\"\n$M" keep
done
bad "\[deployment\].*'name'" "[deployment]\nversion = \"1.0.0\"\n$M"
bad "\[deployment\].*missing" "$M"
bad "\[model\].*nope" "${D}[model]\nsource = \"nope\"\n"
bad "\[\[files\]\].*nope" "${D}${M}[[files]]\nsource = \"nope\"\ndest = \"serve\"\n"
bad "\[\[files\]\].*dest.*\.\./etc" "${D}${M}[[files]]\nsource = \"serve\"\ndest = \"../etc\"\n"
bad "\[\[files\]\].*dest.*serve/\.\./\.\./x" "${D}${M}[[files]]\nsource = \"serve\"\ndest = \"serve/../../x\"\n" keep
bad "\[model\].*hf://org.*ORG/NAME" "${D}[model]\nsource = \"hf://org\"\n"
bad "\[\[image\]\] #1.*platform" "${D}${M}[[image]]\nref = \"docker.io/vllm/vllm-openai:v0.6.3\"\nplatform = \"amd64\"\n"
bad "\[\[deb\]\] #1.*packages" "${D}${M}[[deb]]\nrepo = \"https://example.org/debian bookworm main\"\n"
bad "\[\[wheels\]\] #1.*requirements.*no such file" "${D}${M}[[wheels]]\nindex = \"https://example.org/simple\"\nrequirements = \"nope.txt\"\n"
bad "line [0-9]+" "${D}${M}include = [\"*.json\"\n"
bad "line [0-9]+" "[deployment\nname = \"demo\"\n"

# The same shapes, valid, do make a bundle (the failures above are the manifests').
printf '%b' "${D}${M}${F}" > good.toml
"$BUNDLER" create good.toml -o good --sign "$T/pub.key" --no-encrypt -q >/dev/null
[ -f good/demo-1.0.0.airlock ] && [ -f good/demo-1.0.0.vol001.tar ] || fail "valid manifest made no bundle"
[ -z "$(find good -name ".airlock-tmp-*")" ] || fail "temp dir left after a good create"
pass "$n bad manifests refused with exit 1, naming file and field, writing nothing"
