# Sourced by tests/e2e/apt_*.sh after common.sh: real .deb files built with
# dpkg-deb, two real apt repositories signed with a throwaway gpg key and
# served by python3 -m http.server on loopback:
#   $T/srv/flat/    a flat repository, as NVIDIA's CUDA repos are (Release,
#                   InRelease, Release.gpg and Packages{,.gz,.xz} at its root;
#                   indexed with dpkg-scanpackages --multiversion)
#   $T/srv/debian/  dists/stable/main/binary-amd64/Packages{,.gz,.xz} and
#                   dists/stable/{Release,Release.gpg} (no InRelease), pool/
#                   (indexed with apt-ftparchive)
# Packages (flat):  app 2.0: Depends: libfoo (>= 1.0) | libalt, gpu-driver
#                   app 1.0: Depends: libfoo (>= 1.0)
#                   libfoo 1.5, 0.9: Pre-Depends: base      base 1.0 (all)
#                   libalt 1.0    nvidia-driver 550: Provides: gpu-driver
#                   tool 1.0: Depends: libbar (>= 3) | libalt    libbar 2.0
#                   broken 1.0: Depends: mid   mid 1.0: Depends: libmissing (>= 2)
# Packages (debian): extra 1.0: Depends: libfoo (>= 1.5), base
# Keys: $T/key.gpg signs both; $T/other.gpg is a key that signs nothing.
SUPPORT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$SUPPORT_DIR/serve_dir.sh"

require_tools dpkg-deb dpkg-scanpackages apt-ftparchive gpg gpgv gpgconf xz
export AIRLOCK_CACHE="$T/cache"
export AIRLOCK_TEST_BACKOFF_MS=10

# make_deb OUTDIR NAME VERSION ARCH [EXTRA_CONTROL_LINES] [PAYLOAD_TEXT]
make_deb() {
  local out=$1 name=$2 version=$3 arch=$4 extra=${5:-} payload=${6:-}
  local d="$T/debsrc/$name-$version-$arch-$RANDOM"
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$name" "$out"
  {
    printf 'Package: %s\nVersion: %s\nArchitecture: %s\n' "$name" "$version" "$arch"
    printf 'Maintainer: Airlock Tests <tests@airlock.invalid>\n'
    if [ -n "$extra" ]; then printf '%s\n' "$extra"; fi
    printf 'Description: airlock test package %s\n' "$name"
  } > "$d/DEBIAN/control"
  printf '%s %s\n%s' "$name" "$version" "$payload" > "$d/usr/share/doc/$name/README"
  dpkg-deb --root-owner-group -Zgzip --build "$d" "$out/${name}_${version}_${arch}.deb" >/dev/null
}

# make_key NAME: a gpg key in $T/gnupg-NAME; its public keyring at $T/NAME.gpg.
make_key() {
  local name=$1 home="$T/gnupg-$1"
  mkdir -p -m 700 "$home"
  GNUPGHOME="$home" gpg --batch --quiet --passphrase '' --quick-gen-key "Airlock $name <$name@airlock.invalid>" \
    ed25519 sign never 2>/dev/null
  GNUPGHOME="$home" gpg --batch --export > "$T/$name.gpg"
}

# sign_release DIR KEY [inrelease] [detached]: InRelease (clearsigned) and/or
# Release.gpg (detached, armored) for DIR/Release.
sign_release() {
  local dir=$1 key=$2; shift 2
  local what
  for what in "$@"; do
    case $what in
      inrelease) GNUPGHOME="$T/gnupg-$key" gpg --batch --yes --quiet --clearsign -o "$dir/InRelease" "$dir/Release" ;;
      detached) GNUPGHOME="$T/gnupg-$key" gpg --batch --yes --quiet --armor --detach-sign -o "$dir/Release.gpg" "$dir/Release" ;;
    esac
  done
}

# compress_packages FILE: FILE.gz and FILE.xz next to it.
compress_packages() {
  gzip -9nkf "$1"
  xz -kf "$1"
}

# index_flat DIR: Packages* and Release for a flat repository (Release is
# written elsewhere first: apt-ftparchive would list a half-written Release).
index_flat() {
  local dir=$1
  (cd "$dir" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null)
  compress_packages "$dir/Packages"
  (cd "$dir" && apt-ftparchive release . > "$T/Release.tmp")
  mv "$T/Release.tmp" "$dir/Release"
}

# index_dists ROOT SUITE: dists/SUITE/main/binary-amd64/Packages* and dists/SUITE/Release.
index_dists() {
  local root=$1 suite=$2
  local bin="$root/dists/$suite/main/binary-amd64"
  mkdir -p "$bin"
  (cd "$root" && apt-ftparchive packages pool > "dists/$suite/main/binary-amd64/Packages")
  compress_packages "$bin/Packages"
  (cd "$root" && apt-ftparchive -o "APT::FTPArchive::Release::Suite=$suite" \
    -o "APT::FTPArchive::Release::Codename=$suite" -o APT::FTPArchive::Release::Architectures=amd64 \
    -o APT::FTPArchive::Release::Components=main release "dists/$suite" > "$T/Release.tmp")
  mv "$T/Release.tmp" "$root/dists/$suite/Release"
}

# apt_fixture: both repositories (see the top), signed with "key", served on
# $PORT; requests are logged in $T/http.log. REPO_FLAT and REPO_DEBIAN are their URLs.
apt_fixture() {
  local flat="$T/srv/flat" pool="$T/srv/debian/pool/main"
  make_deb "$flat" app 2.0 amd64 $'Depends: libfoo (>= 1.0) | libalt, gpu-driver'
  make_deb "$flat" app 1.0 amd64 'Depends: libfoo (>= 1.0)'
  make_deb "$flat" libfoo 1.5 amd64 'Pre-Depends: base'
  make_deb "$flat" libfoo 0.9 amd64 'Pre-Depends: base'
  make_deb "$flat" base 1.0 all
  make_deb "$flat" libalt 1.0 amd64
  make_deb "$flat" nvidia-driver 550 amd64 'Provides: gpu-driver'
  make_deb "$flat" tool 1.0 amd64 'Depends: libbar (>= 3) | libalt'
  make_deb "$flat" libbar 2.0 amd64
  make_deb "$flat" broken 1.0 amd64 'Depends: mid'
  make_deb "$flat" mid 1.0 amd64 'Depends: libmissing (>= 2)'
  make_deb "$pool/e/extra" extra 1.0 amd64 'Depends: libfoo (>= 1.5), base'
  make_key key
  make_key other
  index_flat "$flat"
  sign_release "$flat" key inrelease detached
  index_dists "$T/srv/debian" stable
  sign_release "$T/srv/debian/dists/stable" key detached
  # The agents are not needed any more (a test that signs again starts one).
  GNUPGHOME="$T/gnupg-key" gpgconf --kill gpg-agent 2>/dev/null || true
  GNUPGHOME="$T/gnupg-other" gpgconf --kill gpg-agent 2>/dev/null || true
  serve_dir "$T/srv" "$T/http.log"
  REPO_FLAT="http://127.0.0.1:$PORT/flat/"
  REPO_DEBIAN="http://127.0.0.1:$PORT/debian"
}

# deb_manifest FILE [[deb]]-BODY...: a manifest "cuda-mini 1.0.0" with one
# [[deb]] table per argument (each argument is the table's body, TOML lines).
deb_manifest() {
  local file=$1; shift
  printf '[deployment]\nname = "cuda-mini"\nversion = "1.0.0"\n' > "$file"
  local body
  for body in "$@"; do
    printf '\n[[deb]]\n%s\n' "$body" >> "$file"
  done
}

# lock_packages LOCK: "package=version@entry" lines of every deb source, sorted.
lock_packages() {
  python3 - "$1" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
out = []
for i, s in enumerate(x for x in lock["sources"] if x["kind"] == "deb"):
    for p in s["identity"]["packages"]:
        out.append(f'{p["package"]}={p["version"]}@{i}')
print("\n".join(sorted(out)))
PY
}
