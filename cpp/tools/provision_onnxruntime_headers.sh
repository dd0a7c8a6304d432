#!/usr/bin/env bash
# Provision ONNX Runtime C/C++ API headers into DEST without touching the
# system: Debian trixie's libonnxruntime-dev is fetched with `apt-get download`
# using a private apt state folder, then unpacked with `dpkg -x`.
# The apt mirror is taken from this machine's own apt configuration, so no
# host is hard-coded here. Prints the include folder on success.
#
# usage: provision_onnxruntime_headers.sh DEST [SUITE]
set -euo pipefail
dest=${1:?usage: provision_onnxruntime_headers.sh DEST [SUITE]}
suite=${2:-trixie}

if [ -f "$dest/include/onnxruntime_c_api.h" ]; then
  echo "$dest/include"; exit 0
fi
for tool in apt-get dpkg; do
  command -v "$tool" >/dev/null || {
    echo "error: '$tool' not found; set ONNXRUNTIME_ROOT to an unpacked ONNX Runtime release (it needs include/onnxruntime_c_api.h)" >&2
    exit 2; }
done

mirror=$(grep -rhoE '^(URIs:|deb)\s+\S+/debian/?(\s|$)' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null \
         | awk '{print $2}' | head -n1 || true)
if [ -z "$mirror" ]; then
  echo "error: no Debian mirror in this machine's apt configuration; set ONNXRUNTIME_ROOT instead" >&2
  exit 2
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

work=$(mktemp -d "${TMPDIR:-/tmp}/opforge-ort.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/etc/preferences.d" "$work/debs"
echo "deb [signed-by=$keyring] $mirror $suite main" > "$work/etc/sources.list"
touch "$work/state/status"
apt_opts=(-o "Dir::State=$work/state" -o "Dir::State::status=$work/state/status"
          -o "Dir::Cache=$work/cache" -o "Dir::Etc::SourceList=$work/etc/sources.list"
          -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Etc::PreferencesParts=$work/etc/preferences.d"
          -o "APT::Architecture=$(dpkg --print-architecture)" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -q)
apt-get "${apt_opts[@]}" update >&2
(cd "$work/debs" && apt-get "${apt_opts[@]}" download libonnxruntime-dev >&2)
deb=$(ls "$work"/debs/libonnxruntime-dev_*.deb)
dpkg -x "$deb" "$work/root"
hdr=$(dirname "$(find "$work/root" -name onnxruntime_c_api.h | head -n1)")
[ -f "$hdr/onnxruntime_c_api.h" ] || { echo "error: onnxruntime_c_api.h not in $deb" >&2; exit 1; }

# Publish atomically: a half-copied folder must never look complete.
stage="$dest.partial.$$"
rm -rf "$stage"; mkdir -p "$stage/include"
cp -r "$hdr"/. "$stage/include/"
basename "$deb" > "$stage/SOURCE"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"; mv "$stage" "$dest"
echo "$dest/include"
