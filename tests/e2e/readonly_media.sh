# Installing from read-only media works and writes nothing there: the bundle
# sits on a tmpfs remounted read-only (as a write-protected USB stick or a
# DVD would be); verify and install both succeed, the files on it are byte
# for byte and timestamp for timestamp what they were.
source "$(dirname "$0")/common.sh"
setup_site
mkdir "$T/media"
mount -t tmpfs -o size=32M tmpfs "$T/media" 2>/dev/null || skip "cannot mount a tmpfs (not root?)"
E2E_MOUNTS+=("$T/media")
make_model m1 8M 1
make_manifest v1.toml ro 1.0.0 m1
bundle v1.toml "$T/media/bundle" 1 --volume-size 4M
mount -o remount,ro "$T/media" || fail "cannot remount the media read-only"
snapshot() { (cd "$T/media" && find . -type f -print0 | sort -z | xargs -0 stat -c '%n %s %Y %a' && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
snapshot > "$T/media.before"
touch "$T/media/probe" 2>/dev/null && fail "the media is writable"
"$INSTALLER" verify "$T/media/bundle" -q >/dev/null
"$INSTALLER" install "$T/media/bundle" -q >/dev/null
[ "$(readlink "$AIRLOCK_ROOT/deployments/ro/current")" = 1.0.0 ] || fail "not installed from read-only media"
"$INSTALLER" check >/dev/null || fail "check after installing from read-only media"
snapshot | diff -u "$T/media.before" - >&2 || fail "the media changed"
pass "verify and install from read-only media; media unchanged"
