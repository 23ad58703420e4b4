# ROOT is the installer's and nobody else's: a ROOT, folder or key file that
# is group/other-writable, or owned by another user (nobody), and a site.key
# others can read, are refused by every command with exit 1, naming the path
# and the fix, changing nothing.
source "$(dirname "$0")/common.sh"
two_versions 1M 1M
"$INSTALLER" install b1 -q >/dev/null
"$INSTALLER" install b2 -q >/dev/null
"$INSTALLER" rollback demo -q >/dev/null
TEMPLATE="$T/template"
cp -a "$AIRLOCK_ROOT" "$TEMPLATE"
all=("list" "status" "history" "check" "gc" "rollback demo" "targets" "trust list" "verify b2" "install b2")
cmds=("${all[@]}")
# refused HOW REL: the root copy with REL spoilt by HOW (a chmod or chown
# argument) is refused by every command, naming REL and FIX.
refused() {
  local how=$1 rel=$2 fix=$3
  for c in "${cmds[@]}"; do
    R="$T/r"
    chmod -R u+w "$R" 2>/dev/null || true
    rm -rf "$R"
    cp -a "$TEMPLATE" "$R"
    local path="$R${rel:+/$rel}"
    case $how in
      nobody) chown nobody "$path" ;;
      *) chmod "$how" "$path" ;;
    esac
    (cd "$R" && find . -path ./lock -prune -o -printf '%p %m %u\n' | sort && find . -type f ! -name lock -print0 | sort -z | xargs -0 sha256sum) > "$T/before"
    # shellcheck disable=SC2086
    AIRLOCK_ROOT="$R" expect_fail 1 "$fix" "$INSTALLER" $c
    grep -qF "$path:" "$T/last.err" || { cat "$T/last.err" >&2; fail "'$c' with $how on ROOT/$rel does not name $path"; }
    (cd "$R" && find . -path ./lock -prune -o -printf '%p %m %u\n' | sort && find . -type f ! -name lock -print0 | sort -z | xargs -0 sha256sum) > "$T/after"
    diff -u "$T/before" "$T/after" >&2 || fail "'$c' with $how on ROOT/$rel changed the root"
  done
}
refused g+w staging "chmod go-w"  # every command; the check is shared, so a few suffice below
cmds=("list" "verify b2" "install b2")
for rel in "" keys keys/trusted keys/trusted/publisher.pub deployments deployments/demo hf ledger.db; do
  refused g+w "$rel" "chmod go-w"
done
for rel in "" keys/trusted deployments/demo hf keys/site.key; do
  refused o+w "$rel" "chmod go-w"
done
for rel in "" keys keys/trusted keys/trusted/publisher.pub keys/site.key staging deployments deployments/demo hf ledger.db; do
  refused nobody "$rel" "chown"
done
refused go+r keys/site.key "chmod go-rwx"
pass "loose modes and foreign owners under ROOT refused by ${#all[@]} commands, naming the path and the fix"
