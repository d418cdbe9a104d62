#!/bin/bash
# Build the uec-clc-ha source and binary packages (uec-clc-ha,
# python3-uec-clc-ha, uec-clc-ha-arbiter) and check them with lintian.
#
# Run from anywhere in the work tree (the Makefile's `deb` target calls it).
# The build runs in a clean copy of the work tree in a temporary directory:
# every tracked file plus every untracked file that .gitignore does not
# exclude, as the files are now (uncommitted changes included), so leftovers
# of earlier builds never leak into the package.  `dpkg-buildpackage -us -uc`
# builds source and binary (lintian's source checks, po-debconf's among them,
# only run on a source build).  The results go to dist/ at the top of the
# work tree (or to $DIST_DIR), lintian's report to DIST/lintian.txt.  Exit status: 0 when the
# build succeeds and lintian -I -E --pedantic prints no E: or W: tag;
# non-zero otherwise.  KEEP_BUILD_DIR=1 keeps the temporary build directory.
set -euo pipefail

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$top"
source=$(dpkg-parsechangelog -S Source)
version=$(dpkg-parsechangelog -S Version)
mapfile -t packages < <(sed -n 's/^Package: *//p' debian/control)

work=$(mktemp -d "${TMPDIR:-/tmp}/$source-build.XXXXXX")
if [[ ${KEEP_BUILD_DIR:-0} == 1 ]]; then
    echo "build directory kept: $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi
tree="$work/$source-$version"
mkdir "$tree"

# Tracked and untracked-but-not-ignored files that exist (a tracked file
# deleted in the work tree is left out); tar keeps their modes.
git ls-files -z --cached --others --exclude-standard --deduplicate |
    while IFS= read -r -d '' f; do
        if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
    done |
    tar --null --no-recursion --files-from=- -cf - |
    tar -xf - -C "$tree"

echo "building $source $version in $tree" >&2
(cd "$tree" && dpkg-buildpackage -us -uc) > "$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (full log: $work/build.log)" >&2
    trap - EXIT
    exit 1
}

dist=${DIST_DIR:-$top/dist}
mkdir -p "$dist"
for p in "${packages[@]}"; do
    rm -f "$dist/${p}_"*
done
shopt -s nullglob
artifacts=()
for p in "${packages[@]}"; do
    artifacts+=("$work/${p}_${version}_all.deb")
done
artifacts+=("$work/${source}_${version}.dsc"
           "$work/${source}_${version}.tar.xz" "$work/${source}_${version}_"*.changes
           "$work/${source}_${version}_"*.buildinfo)
for f in "${artifacts[@]}"; do
    [[ -f $f ]] || { echo "build-deb: $f was not built" >&2; exit 1; }
    cp -p "$f" "$dist/"
done
cp -p "$work/build.log" "$dist/build.log"

changes=("$dist/${source}_${version}_"*.changes)
[[ ${#changes[@]} == 1 ]] || { echo "build-deb: expected one .changes file, found ${#changes[@]}" >&2; exit 1; }
rc=0
lintian -I -E --pedantic --fail-on none "${changes[0]}" > "$dist/lintian.txt" 2>&1 || rc=$?
cat "$dist/lintian.txt"
if [[ $rc != 0 ]]; then
    echo "build-deb: lintian failed to run (exit $rc)" >&2
    exit 1
fi
if grep -qE '^[EW]: ' "$dist/lintian.txt"; then
    echo "build-deb: lintian reported E: or W: tags ($dist/lintian.txt)" >&2
    exit 1
fi
for p in "${packages[@]}"; do
    echo "build-deb: built" "$dist/${p}_${version}"* >&2
done
