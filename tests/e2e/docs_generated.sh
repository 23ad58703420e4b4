# The man pages and bash completion in build/docs (tools/gen_docs) say what
# the programs' own --help says: every command path --help lists has its
# section in the page, with every option and positional its --help lists,
# and the completion script, sourced into bash with COMP_WORDS/COMP_CWORD
# set, offers each level's subcommands, each command's options, and the
# right kind of value (directories, files, choices) after an option.
source "$(dirname "$0")/common.sh"
DOCS="$AIRLOCK_BUILD_DIR/docs"
[ -f "$DOCS/airlock-bundler.1" ] || skip "no $DOCS (a cross build makes no pages)"

# help_section HELP_FILE TITLE: the first word of each entry under "TITLE:".
help_section() {
  awk -v t="$2:" '$0 == t {on = 1; next} on && /^$/ {on = 0} on && /^  [^ ]/ {print $1}' "$1"
}
# help_options HELP_FILE: each option name ("-o", "--out") under "Options:".
help_options() { help_section "$1" Options | tr ',' '\n' | grep -- '^-'; }

# commands PROGRAM [PATH...]: every command path below PROGRAM, from --help.
commands() {
  local prog=$1; shift
  local help="$T/help.$$.$RANDOM"
  "$prog" "$@" --help > "$help"
  echo "$*"
  local sub
  for sub in $(help_section "$help" Subcommands); do commands "$prog" "$@" "$sub"; done
}

# page_section PAGE_TEXT PATH: the lines of the page's "   PATH" subsection.
page_section() {
  awk -v h="   $2" '$0 == h {on = 1; next} on && /^   [^ ]/ {exit} on && /^[^ ]/ {exit} on {print}' "$1"
}
has_word() {  # has_word FILE WORD: WORD as a whole token (between spaces, commas, brackets)
  grep -Eq -- "(^|[][ ,(])$(printf '%s' "$2" | sed 's/[.[\*^$]/\\&/g')([][ ,)]|$)" "$1"
}

checked=0
for prog in "$BUNDLER" "$INSTALLER"; do
  name=$(basename "$prog")
  MANWIDTH=1000 man -l "$DOCS/$name.1" 2>/dev/null | col -bx > "$T/$name.txt"
  [ -s "$T/$name.txt" ] || fail "man -l $name.1 printed nothing"
  mapfile -t paths < <(commands "$prog")
  [ ${#paths[@]} -gt 5 ] || fail "$name --help lists only ${#paths[@]} commands"
  for path in "${paths[@]}"; do
    # shellcheck disable=SC2086
    "$prog" $path --help > "$T/help"
    if [ -z "$path" ]; then
      sed -n '/^OPTIONS$/,/^COMMANDS$/p' "$T/$name.txt" > "$T/section"
    else
      page_section "$T/$name.txt" "$path" > "$T/section"
      [ -s "$T/section" ] || fail "$name.1 has no section for '$path'"
    fi
    for opt in $(help_options "$T/help"); do
      [ -n "$path" ] && [ "$opt" = -h -o "$opt" = --help ] && continue  # said once for every command
      has_word "$T/section" "$opt" || fail "$name.1: '${path:-$name}' does not mention $opt"
      checked=$((checked + 1))
    done
    for pos in $(help_section "$T/help" Positionals); do
      has_word "$T/section" "$pos" || fail "$name.1: '$path' does not mention its positional $pos"
      checked=$((checked + 1))
    done
    has_word "$T/$name.txt" "${path##* }" || fail "$name.1 does not mention command '$path'"
  done
done
[ "$checked" -gt 60 ] || fail "only $checked options and positionals checked"

# completion WORD... : what the completion script offers for the last WORD
# (COMP_WORDS = the words, COMP_CWORD = the last), one per line.
completion() {
  bash -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
    "$(complete -p "$1" | awk "{print \$(NF-1)}")"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$DOCS/completions/$1" "$@" > "$T/offered"
}
# offers WORD... -- EXPECTED... / lacks WORD... -- UNEXPECTED...
offers() {
  local words=()
  while [ "$1" != -- ]; do words+=("$1"); shift; done; shift
  completion "${words[@]}"
  for w in "$@"; do
    grep -qx -- "$w" "$T/offered" ||
      fail "completing '${words[*]}' does not offer $w (got: $(tr '\n' ' ' < "$T/offered"))"
  done
}
lacks() {
  local words=()
  while [ "$1" != -- ]; do words+=("$1"); shift; done; shift
  completion "${words[@]}"
  for w in "$@"; do grep -qx -- "$w" "$T/offered" && fail "completing '${words[*]}' offers $w"; done
  return 0
}

completed=0
for prog in "$BUNDLER" "$INSTALLER"; do
  name=$(basename "$prog")
  mapfile -t paths < <(commands "$prog")
  for path in "${paths[@]}"; do
    # shellcheck disable=SC2086
    "$prog" $path --help > "$T/help"
    read -r -a words <<< "$path"
    mapfile -t subs < <(help_section "$T/help" Subcommands)
    if [ ${#subs[@]} -gt 0 ]; then offers "$name" "${words[@]}" "" -- "${subs[@]}"; fi
    mapfile -t opts < <(help_options "$T/help")
    offers "$name" "${words[@]}" - -- "${opts[@]}"
    completed=$((completed + ${#subs[@]} + ${#opts[@]}))
  done
done

mkdir adir && touch afile
offers airlock-installer --root a -- adir
lacks airlock-installer --root a -- afile
offers airlock-installer install --root a -- adir    # a global option after the command
offers airlock-installer install -q a -- adir afile  # a flag takes no value: the bundle
offers airlock-bundler create m.toml -o a -- adir
lacks airlock-bundler create m.toml -o a -- afile
offers airlock-bundler create m.toml --sign a -- afile adir
offers airlock-bundler create m.toml --sign = a -- afile  # --sign=a, split at '='
offers airlock-installer trust add k.pub --role "" -- publisher root
lacks airlock-installer trust add k.pub --role "" -- afile
offers airlock-installer trust add a -- afile
offers airlock-installer install --threads 4 a -- afile
lacks airlock-installer gc --keep "" -- afile
offers airlock-installer trust "" -- add revoke threshold list remove
lacks airlock-installer trust "" -- init install
pass "man pages: $checked options and positionals in their sections; completion: $completed subcommands and options"
