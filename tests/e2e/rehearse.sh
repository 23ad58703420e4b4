# install --rehearse and airlock-bundler rehearse: the bundle is installed
# into a scratch root inside a sandbox with nothing but loopback, its
# [activate] commands and health check run there, and every attempt to reach
# the network is reported with the program, host or address, and port.
#   - curl https://example.org/x: the name lookup is seen (curl, example.org);
#   - a socket to a literal IP: the connect (python3, 192.0.2.7, 8443), and it
#     never got out (ENETUNREACH);
#   - a name resolved (getaddrinfo): the lookup (python3, huggingface.co);
#   - a clean one that serves and checks on loopback (a server it leaves
#     running, which the sandbox ends): exit 0, no findings;
#   - a server on the machine's own loopback is never reached from inside;
#   - ROOT is unchanged by every rehearsal and no scratch root is left;
#   - no strace: exit 1 naming it, nothing run.
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/common.sh"
# LeakSanitizer cannot run under ptrace, and a rehearsal runs the installer
# under strace: in the sanitizer build it would fail every traced exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
require_tools strace python3 curl

setup_site
make_model m1 64K 1

# Can this machine make the sandbox at all (user namespaces)?
if ! unshare --user --net --mount true 2>/dev/null; then
  skip "user namespaces are not available here"
fi

# A server on the machine's own loopback: the sandbox's loopback is another one.
mkdir -p "$T/www" && echo hi > "$T/www/index.html"
HOST_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_bg python3 -m http.server "$HOST_PORT" --bind 127.0.0.1 --directory "$T/www" 2>"$T/host-server.log"
for i in $(seq 50); do curl -sf "http://127.0.0.1:$HOST_PORT/" >/dev/null && break; sleep 0.1; done
: > "$T/host-server.log"

# rehearsal_bundle NAME SEQ ACTIVATE_TOML: a bundle of deployment NAME with that [activate] table.
rehearsal_bundle() {
  printf '[deployment]\nname = "%s"\nversion = "1.0.0"\n\n[model]\nsource = "m1"\n\n[activate]\nshell = true\ntimeout = "20s"\n%s\n' \
    "$1" "$3" > "$1.toml"
  bundle "$1.toml" "b-$1" "$2"
}

# rehearse NAME WANT_EXIT: install --rehearse --json of b-NAME into rehearse-NAME.json.
rehearse() {
  local rc=0
  "$INSTALLER" install "b-$1" --rehearse --json --scratch "$T/scratch" >"$T/rehearse-$1.json" 2>"$T/rehearse-$1.err" || rc=$?
  [ "$rc" = "$2" ] || { cat "$T/rehearse-$1.err" "$T/rehearse-$1.json"; fail "rehearse $1: exit $rc, wanted $2"; }
}

# finding NAME PYTHON_CONDITION: some finding f of rehearse-NAME.json satisfies it.
finding() {
  python3 - "$T/rehearse-$1.json" "$2" <<'PY' || { cat "$T/rehearse-$1.json"; fail "rehearse $1: no finding with $2"; }
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(eval(sys.argv[2], {}, {"f": f}) for f in d["findings"]) else 1)
PY
}

mkdir -p "$T/scratch"
save_state

# 1. curl https://example.org/x
rehearsal_bundle curl 1 'run = ["curl -s --max-time 5 https://example.org/x || true"]'
rehearse curl 4
finding curl 'f["kind"] == "lookup" and f["host"] == "example.org" and f["program"] == "curl" and f["port"] == 53'
grep -q "curl (pid [0-9]*) looked up example.org (A" "$T/rehearse-curl.err" "$T/rehearse-curl.json" \
  || fail "no human-readable finding for curl"
"$INSTALLER" install b-curl --rehearse --scratch "$T/scratch" >"$T/human.out" 2>&1 && fail "human rehearse exit 0"
grep -q "attempt.* to reach the network" "$T/human.out" || { cat "$T/human.out"; fail "no summary line"; }
grep -q "^  curl (pid [0-9]*) looked up example.org (A" "$T/human.out" || { cat "$T/human.out"; fail "no finding line"; }

# 2. a socket to a literal IP address
rehearsal_bundle rawip 2 "run = [\"python3 -c 'import socket; s=socket.socket(); s.settimeout(2)\\ntry: s.connect((\\\"192.0.2.7\\\", 8443))\\nexcept OSError as e: print(e)'\"]"
rehearse rawip 4
finding rawip 'f["kind"] == "connect" and f["address"] == "192.0.2.7" and f["port"] == 8443 and f["program"].startswith("python3") and f["result"] == "ENETUNREACH"'

# 3. a name resolved
rehearsal_bundle lookup 3 "run = [\"python3 -c 'import socket\\ntry: socket.getaddrinfo(\\\"huggingface.co\\\", 443)\\nexcept OSError as e: print(e)'\"]"
rehearse lookup 4
finding lookup 'f["kind"] == "lookup" and f["host"] == "huggingface.co" and f["program"].startswith("python3")'

# 4. clean: a server on the sandbox's loopback, left running, and a health check against it;
# the run command also tries the host's loopback server, which must not see it.
CLEAN_PORT=$((HOST_PORT + 1))
rehearsal_bundle clean 4 "run = [\"python3 -m http.server $CLEAN_PORT --bind 127.0.0.1 >/dev/null 2>&1 &\", \"curl -s --max-time 2 http://127.0.0.1:$HOST_PORT/ > host-try.txt; true\"]
health = \"curl -sf http://127.0.0.1:$CLEAN_PORT/\""
rehearse clean 0
python3 - "$T/rehearse-clean.json" <<'PY' || fail "clean rehearsal"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["network_free"] is True and d["findings"] == [] and d["install_exit"] == 0, d
PY
[ -s "$T/host-server.log" ] && { cat "$T/host-server.log"; fail "the host's loopback server was reached from the sandbox"; }
pgrep -f "http.server $CLEAN_PORT" >/dev/null && fail "the server the activation started outlived the rehearsal"

# Nothing in ROOT changed, no scratch root is left.
assert_state_unchanged
[ -z "$(ls -A "$T/scratch")" ] || { ls -la "$T/scratch"; fail "a scratch root was left behind"; }
"$INSTALLER" list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert not d or d == [] or d.get("deployments") == [], d' \
  || fail "the rehearsal installed something into ROOT"

# The bundler's rehearse runs the same thing with a site root of the connected side.
rc=0
"$BUNDLER" rehearse b-lookup --site-root "$AIRLOCK_ROOT" --installer "$INSTALLER" --json >"$T/b.json" 2>"$T/b.err" || rc=$?
[ "$rc" = 4 ] || { cat "$T/b.err"; fail "bundler rehearse: exit $rc, wanted 4"; }
grep -q huggingface.co "$T/b.json" || fail "bundler rehearse: no finding"

# Without strace: exit 1 naming it, and nothing ran.
mkdir -p "$T/bin" && ln -s "$(command -v python3)" "$T/bin/python3"
expect_fail 1 "needs 'strace'" env PATH="$T/bin" "$INSTALLER" install b-clean --rehearse --scratch "$T/scratch"
assert_state_unchanged

pass "curl, a literal IP and a lookup found (program, host or address, port); a clean loopback activation passes; ROOT unchanged; no strace refused"
