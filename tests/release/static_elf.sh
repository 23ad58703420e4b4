# Both release installers are what they claim: ELF executables for their
# machine, statically linked (no interpreter, no dynamic section; ldd: "not
# a dynamic executable"), stripped. Their unstripped twins in build-release/
# (the same link: equal build IDs) hold no libcurl, TLS, HTTP or libarchive
# code, and none of our own functions calls a socket function.
source "$(dirname "$0")/common.sh"

check_static() {
  local arch=$1 machine=$2 objdump=$3 bin what
  bin="$(artifact "$arch")"
  what="$(file -b "$bin")"
  case "$what" in
    *"$machine"*"statically linked"*"stripped"*) ;;
    *) fail "$bin: not a stripped static $machine executable: $what" ;;
  esac
  case "$what" in *"not stripped"*) fail "$bin is not stripped" ;; esac
  readelf -lW "$bin" > "$T/phdrs" || fail "readelf cannot read $bin"
  ! grep -q INTERP "$T/phdrs" || fail "$bin asks for a program interpreter (a dynamic loader)"
  ! grep -q DYNAMIC "$T/phdrs" || fail "$bin has a dynamic segment"
  readelf -dW "$bin" | grep -q "There is no dynamic section" || fail "$bin has a dynamic section"
  local rc=0
  ldd "$bin" > "$T/ldd" 2>&1 || rc=$?
  grep -q "not a dynamic executable" "$T/ldd" || fail "ldd $bin (exit $rc): $(cat "$T/ldd")"

  # The unstripped twin: same build ID, so the same link.
  local twin="$RELEASE_BUILD_DIR/$arch/installer/airlock-installer" id_bin id_twin
  [ -f "$twin" ] || fail "$twin missing (build-release/ is where packaging/build-release.sh builds)"
  id_bin="$(readelf -nW "$bin" | awk '/Build ID/ { print $3 }')"
  id_twin="$(readelf -nW "$twin" | awk '/Build ID/ { print $3 }')"
  [ -n "$id_bin" ] && [ "$id_bin" = "$id_twin" ] || fail "$bin ($id_bin) is not the strip of $twin ($id_twin)"
  nm "$twin" > "$T/syms" || fail "nm $twin"
  [ "$(wc -l < "$T/syms")" -gt 1000 ] || fail "$twin has no symbol table to check"
  if grep -E ' [TtWw] (curl_|Curl_|nghttp2_|ngtcp2_|ssh_|libssh2_|gnutls_|SSL_connect|SSL_CTX_new|ldap_|archive_read_|archive_write_)' \
      "$T/syms" | head -5 >&2; then
    fail "$twin holds network, TLS or libarchive code (above)"
  fi
  # Which functions call into the socket API: none of ours (namespace airlock).
  "$objdump" -d -C --no-show-raw-insn "$twin" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); sub(/>:$/, "", fn) }
    /(call|jmp|bl|b)[ \t]+[0-9a-f]+ <(__)?(libc_)?(socket|connect|bind|listen|accept4?|getaddrinfo|gethostbyname|sendto|recvfrom)>$/ { print fn }
  ' | sort -u > "$T/callers"
  [ -s "$T/callers" ] || fail "$twin: the scan found no call to the socket API at all (libcrypto's BIO code has some): it is broken"
  if grep 'airlock::' "$T/callers" >&2; then
    fail "$twin: functions of ours call the socket API (above)"
  fi
  # The callers are libcrypto's socket BIOs and AF_ALG engine and glibc's
  # resolver, never run (docs/ARCHITECTURE.md, "Release builds"). A new one
  # means new code that can reach the network: look at it before adding it.
  local known='^(BIO_[A-Za-z_]+|afalg_[a-z_]+|getaddrinfo|__check_native|__check_pf|__netlink_open|__netlink_request|__opensock|_res_hconf_reorder_addrs|open_socket|reopen|send_dg|send_vc)$'
  if grep -Ev "$known" "$T/callers" >&2; then
    fail "$twin: unexpected callers of the socket API (above)"
  fi
  echo "  $arch: $(stat -c %s "$bin") bytes; socket API called only from: $(tr '\n' ' ' < "$T/callers")"
}
check_static x86_64 "x86-64" objdump
check_static aarch64 "ARM aarch64" aarch64-linux-gnu-objdump
pass "both installers static, stripped, no network code of ours"
