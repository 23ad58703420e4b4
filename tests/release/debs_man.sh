# Each man page the packages ship renders with man -l (what lintian and a
# user's man run): non-empty, with its NAME line, and no groff warning.
source "$(dirname "$0")/debs_common.sh"
command -v man >/dev/null || fail "man is not installed (man-db in packaging/debian-packages.txt)"
dpkg-deb -x "$DEB_BUNDLER" x
dpkg-deb -x "$DEB_INSTALLER" x
pages=(x/usr/share/man/man1/airlock-bundler.1.gz x/usr/share/man/man1/airlock-installer.1.gz
       x/usr/share/man/man5/airlock-manifest.5.gz)
for page in "${pages[@]}"; do
  [ -f "$page" ] || fail "$page is not in the packages"
  name="$(basename "$page" | cut -d. -f1)"
  # As lintian runs it (groff-message): every warning on, 80 columns.
  LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" > /dev/null 2> warnings
  [ -s warnings ] && { cat warnings; fail "$name: groff warnings"; }
  MANWIDTH=80 man -l "$page" 2>warnings | col -bx > page.txt
  [ -s warnings ] && { cat warnings; fail "$name: man -l printed to stderr"; }
  [ "$(wc -l < page.txt)" -gt 40 ] || fail "$name: the page has only $(wc -l < page.txt) lines"
  grep -q "^       $name - " page.txt || fail "$name: no NAME line '$name - ...'"
  lexgrog "$page" | grep -q "\"$name - " || fail "$name: lexgrog finds no whatis entry"
  grep -qi "^SEE ALSO" page.txt || fail "$name: no SEE ALSO section"
done
pass "${#pages[@]} pages render with man -l, no groff warnings"
