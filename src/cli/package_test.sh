#!/usr/bin/env bash
# CTest Package.*: scripts/package builds a .deb of the built binary whose
# Depends are Debian packages this machine has (what `apt install ./deb` pulls
# in on a board), and which installs into a throw-away dpkg root and runs there.
#   package_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1 build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

deb=$("$source_dir/scripts/package" --build "$build_dir" --out "$work")
[ -f "$deb" ] || fail "scripts/package printed '$deb', no such file"
[ "$(dpkg-deb -f "$deb" Package)" = edgegnn ] || fail "package name"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "architecture"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libtorch1.13 libopenmpi3 libmetis5; do
  [[ $depends == *"$lib (>= "* ]] || fail "Depends lacks $lib: $depends"
done
# Every dependency is satisfied here: dpkg would install it as is.
dpkg --dry-run -i "$deb" > "$work/dry-run.log" 2>&1 || { cat "$work/dry-run.log" >&2; fail "dpkg --dry-run -i"; }

root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
# The throw-away root has none of the libraries: they are this machine's.
dpkg --root="$root" --force-depends --force-not-root --log=/dev/null -i "$deb" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "dpkg --root -i"; }
dpkg --root="$root" -s edgegnn | grep -q "^Status: install ok installed" || fail "not installed"
"$root/usr/bin/edgegnn" --help | head -1 | grep -q "^edgegnn: train graph neural networks" || fail "--help"
"$root/usr/bin/edgegnn" train --help | grep -q -- "--feature-dtype" || fail "train --help"
[ -f "$root/usr/share/doc/edgegnn/README.md" ] || fail "README not installed"

# Bad input: one line naming the flag, a non-zero exit.
if out=$("$source_dir/scripts/package" --arch sparc 2>&1); then fail "--arch sparc succeeded"; fi
[ "$out" = "scripts/package: error: --arch: 'sparc' is not amd64 or arm64" ] || fail "message: $out"
echo "package test passed: $(basename "$deb"), Depends: $depends"
