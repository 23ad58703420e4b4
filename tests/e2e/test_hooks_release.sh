# The test-only hooks read from the environment (AIRLOCK_TEST_CRASH_AT makes
# the installer SIGKILL itself; AIRLOCK_TEST_BACKOFF_MS shortens the bundler's
# retry waits) must not exist in a release build. Every source file outside
# tests/ that names one is compiled here twice with the build's own flags
# (compile_commands.json): without AIRLOCK_TEST_HOOKS the object holds no
# such name; with it, it does (so this test can fail).
source "$(dirname "$0")/common.sh"
db="$AIRLOCK_BUILD_DIR/compile_commands.json"
[ -f "$db" ] || fail "$db missing (CMAKE_EXPORT_COMPILE_COMMANDS)"
mapfile -t files < <(cd "$AIRLOCK_SOURCE_DIR" && grep -rl --include='*.cc' 'AIRLOCK_TEST_[A-Z_]*' \
  core keys bundler installer tools | sort)
[ ${#files[@]} -ge 2 ] || fail "expected the crash and backoff hooks in the sources, found: ${files[*]:-none}"
for f in "${files[@]}"; do
  for mode in off on; do
    cmd=$(python3 - "$db" "$AIRLOCK_SOURCE_DIR/$f" "$T/obj.o" "$mode" <<'PY'
import json, shlex, sys
db, src, out, mode = sys.argv[1:]
entries = json.load(open(db))
entry = next((e for e in entries if e["file"] == src), None)
if entry is None:
    # A unity build (cmake/Unity.cmake) compiles src inside its folder's
    # group file: that file's command has src's flags.
    for e in entries:
        if "/Unity/" in e["file"] and ('#include "%s"' % src) in open(e["file"]).read():
            entry = dict(e, command=e["command"].replace(e["file"], src))
            break
if entry is None:
    sys.exit("no compile command for " + src)
args = shlex.split(entry["command"])
args = [a for a in args if a != "-DAIRLOCK_TEST_HOOKS=1"]
if args[0].endswith("ccache"):
    args = args[1:]
if mode == "on":
    args.insert(1, "-DAIRLOCK_TEST_HOOKS=1")
i = args.index("-o")
args[i + 1] = out
print("cd " + shlex.quote(entry["directory"]) + " && " + shlex.join(args))
PY
)
    rm -f "$T/obj.o"
    bash -c "$cmd" || fail "cannot compile $f ($mode)"
    if grep -qa 'AIRLOCK_TEST_' "$T/obj.o"; then found=yes; else found=no; fi
    case "$mode" in
      off) [ "$found" = no ] || fail "$f: a build without AIRLOCK_TEST_HOOKS still holds $(grep -ao 'AIRLOCK_TEST_[A-Z_]*' "$T/obj.o" | sort -u | tr '\n' ' ')" ;;
      on) [ "$found" = yes ] || fail "$f: with AIRLOCK_TEST_HOOKS the hook is missing (is this check looking at the right file?)" ;;
    esac
  done
done
pass "${#files[@]} files with test hooks: none left in a build without -DAIRLOCK_TEST_HOOKS"
