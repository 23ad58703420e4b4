# A volume damaged anywhere (tar header, pack data, last data bytes, trailing
# zero blocks) is refused with exit 3 naming the volume, and nothing changes:
# the installed v1 stays active and no v2 files appear.
source "$(dirname "$0")/common.sh"
two_models 4M 4M
bundle v1.toml b1 100
bundle v2.toml b2 200
"$INSTALLER" install b1 -q >/dev/null
VOL=demo-2.0.0.vol001.tar
[ -f "b2/$VOL" ] || fail "expected one volume $VOL"
size=$(stat -c %s "b2/$VOL")
# Last byte of the pack's data: the byte just before the tar padding/trailer.
last=$(python3 -c 'import tarfile,sys; m=tarfile.open(sys.argv[1]).getmembers()[-1]; print(m.offset_data+m.size-1)' "b2/$VOL")
[ "$last" -lt $((size - 1024)) ] || fail "no trailer after the last pack byte"

save_state
for off in 100 $((size / 2)) "$last" $((size - 100)); do
  rm -rf t && cp -r b2 t
  flip_byte "t/$VOL" "$off"
  expect_fail 3 "$VOL" "$INSTALLER" install t -q
  assert_state_unchanged "install of a volume flipped at $off"
  [ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 1.0.0 ] || fail "v1 no longer active (offset $off)"
  [ ! -e "$AIRLOCK_ROOT/deployments/demo/2.0.0" ] || fail "v2 files exist after a refused install (offset $off)"
  expect_fail 3 "$VOL" "$INSTALLER" verify t -q
  expect_fail 3 "$VOL.*SHA-256 mismatch" "$BUNDLER" -q verify t --trust "$T/pub.pub"
  assert_state_unchanged "verify of a volume flipped at $off"
done
# The intact copy still installs: the failures were the damage, not the bundle.
"$INSTALLER" install b2 -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/demo/current")" = 2.0.0 ] || fail "intact v2 did not install"
pass "a byte flipped in a volume's tar header, pack data, last data byte or trailer is refused (exit 3, volume named), state unchanged"
