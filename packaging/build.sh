#!/usr/bin/env bash
# Build the one-folder desktop bundle dist/PhotoSearch/ (PyInstaller, CPU-only torch).
#
#   packaging/build.sh                  # here: CPU torch comes from the machine's wheel cache / pip config
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu packaging/build.sh      # anywhere else
#
# It makes (once) a build venv with the CPU build of torch, the app and PyInstaller, renders the icons if
# they are missing, and runs packaging/photosearch.spec. Reruns reuse the venv and PyInstaller's cache
# (CLEAN=1 starts over). Takes 7.5 min the first time on 2 busy cores (4-5 min after); the result is 1.07 GB.
# ARCHIVE=1 also packs dist/PhotoSearch-<version>-<os>-<arch>.tar.gz for publishing.
# Then: packaging/verify_bundle.sh checks the bundle with no Python environment on PATH.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$REPO/build/bundle}
VENV=${BUNDLE_VENV:-$BUILD/venv}
DIST=${DIST_DIR:-$REPO/dist}
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0+cpu}
TORCH_INDEX=${TORCH_INDEX:-}
export PIP_DISABLE_PIP_VERSION_CHECK=1

start=$(date +%s)
mkdir -p "$BUILD"
if [ "${CLEAN:-0}" = 1 ]; then rm -rf "$VENV" "$BUILD/work" "$DIST/PhotoSearch"; fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
VPY="$VENV/bin/python"

# Pin torch to its CPU build for the whole resolution: otherwise torchvision's newest release would pull
# the CUDA torch (and ~4 GB of nvidia libraries) back in.
echo "$TORCH_SPEC" > "$BUILD/constraints.txt"
idx=()
[ -n "$TORCH_INDEX" ] && idx=(--extra-index-url "$TORCH_INDEX")
echo "build: installing $TORCH_SPEC, the app and PyInstaller into $VENV" >&2
"$VPY" -m pip install -q "${idx[@]}" -c "$BUILD/constraints.txt" "$TORCH_SPEC" "pyinstaller>=6.10" "$REPO"
"$VPY" - <<'PY'
import torch, sys
if torch.version.cuda:
    sys.exit(f"build: the build venv has a CUDA torch ({torch.__version__}); set TORCH_SPEC/TORCH_INDEX to a CPU build")
PY

[ -f "$REPO/packaging/icons/photosearch.icns" ] || QT_QPA_PLATFORM=offscreen "$VPY" "$REPO/packaging/make_icons.py"

echo "build: running PyInstaller (several minutes)" >&2
cd "$BUILD"  # not the repo root: analysis must import the installed app, as users get it
nice -n 5 "$VENV/bin/pyinstaller" --noconfirm --log-level "${PYI_LOG_LEVEL:-WARN}" \
  --distpath "$DIST" --workpath "$BUILD/work" "$REPO/packaging/photosearch.spec"

if [ "${ARCHIVE:-0}" = 1 ]; then  # the file to publish: dist/PhotoSearch-<version>-linux-<arch>.tar.gz
  ver=$("$VPY" -c "import photosearch; print(photosearch.__version__)")
  tar -C "$DIST" -czf "$DIST/PhotoSearch-$ver-$(uname -s | tr A-Z a-z)-$(uname -m).tar.gz" PhotoSearch
fi
secs=$(( $(date +%s) - start ))
size=$(du -sh "$DIST/PhotoSearch" | cut -f1)
echo "build: dist/PhotoSearch ($size) built in ${secs}s" >&2
echo "{\"bundle\": \"$DIST/PhotoSearch\", \"size\": \"$size\", \"seconds\": $secs}"
