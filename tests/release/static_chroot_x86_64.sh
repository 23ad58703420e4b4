# The static x86_64 installer in an empty chroot (the binary, the bundles, an
# empty ROOT; no /lib, no /etc): init, trust add, verify, install, upgrade,
# rollback, check, history, status all work on bundles the bundler made.
# Then: user names come from the chroot's own /etc/passwd once there is one,
# and, traced with strace, the installer opens nothing outside ROOT, the
# media and /etc/passwd (no shared library, NSS or gconv module, locale,
# openssl.cnf) and makes no socket.
source "$(dirname "$0")/common.sh"
bin="$(artifact x86_64)"
can_chroot || skip "cannot chroot here (not root, no user namespaces)"
make_chroot "$T/ch" "$bin"
chroot_scenario

mkdir "$CH/etc"
printf 'siteop:x:0:0:Site operator:/:/nonexistent\n' > "$CH/etc/passwd"
in_chroot rollback demo --to 2.0.0 >/dev/null || fail "rollback --to 2.0.0 failed"
in_chroot history demo --json | python3 -c '
import json, sys
ev = json.load(sys.stdin)
assert ev[-1]["action"] == "rollback" and ev[-1]["user"] == "siteop", ev[-1]' ||
  fail "the user name did not come from the chroot's /etc/passwd"

if ! strace -f -o /dev/null true 2>/dev/null; then
  echo "note: strace cannot trace here; the file and socket check is left out"
  pass "init, trust add, verify, install, rollback, check, history in an empty chroot"
  exit 0
fi
# traced ARGS...: the installer's own file and network system calls (those
# of chroot(8) before it execs the installer are dropped).
traced() {
  env -i NO_COLOR=1 "$(command -v strace)" -f -qq -e trace=%file,%network,%process -o "$T/trace" \
    "${CHROOT[@]}" "$CH" /airlock-installer --root /root "$@" >/dev/null 2>&1 || true
  awk '/execve\("\/airlock-installer"/ { on = 1 } on' "$T/trace" > "$T/trace.own"
  [ -s "$T/trace.own" ] || fail "strace saw no exec of /airlock-installer"
  cat "$T/trace.own" >> "$T/trace.all"
}
: > "$T/trace.all"
traced verify /b2 -q
traced install /b2 -q
traced rollback demo --to 1.0.0
traced check
traced history
if grep -E '^[0-9]+ +(socket|connect|bind|listen|accept4?|sendto|sendmsg|socketpair)\(' "$T/trace.all" >&2; then
  fail "the installer made network system calls"
fi
# Every absolute path it names: the binary, ROOT, the media, /etc/passwd,
# and what glibc and SQLite look at and do without (all absent here):
#   /proc/self/exe        static start-up notes where the executable is
#   /sys/devices/system/cpu/online, /proc/stat
#                         the CPU count (glibc falls back to sched_getaffinity)
#   /etc/localtime        the time zone (UTC without it)
#   /dev/urandom          SQLite seeds its own PRNG (temp names); libsodium
#                         and OpenSSL use getrandom(2)
#   /proc/sys/vm/overcommit_memory
#                         glibc's malloc reads it once, the first time it
#                         shrinks a worker thread's heap (1 MiB chunk buffers
#                         freed), to choose how the memory goes back to the
#                         kernel; without it, as if not 2 (strict). Nothing
#                         the installer computes depends on it
# Nothing else: no shared library, NSS or gconv module, nsswitch.conf,
# locale, openssl.cnf or provider module.
grep -oE '"/[^"]*"' "$T/trace.all" | tr -d '"' | sort -u > "$T/paths"
if grep -vE '^/(airlock-installer|root(/.*)?|b[12](/.*)?|etc/passwd|proc/self/exe|proc/stat|sys/devices/system/cpu/online|etc/localtime|dev/urandom|proc/sys/vm/overcommit_memory)$' \
    "$T/paths" >&2; then
  fail "the installer named files outside ROOT, the media and the list above (above)"
fi
grep -qx /etc/passwd "$T/paths" || fail "the trace shows no read of /etc/passwd: the check would prove nothing"
grep -qx /b2 "$T/paths" || fail "the trace shows no read of the bundle: the check would prove nothing"
pass "init, trust add, verify, install, rollback, check, history in an empty chroot; $(wc -l < "$T/paths") paths, no socket"
