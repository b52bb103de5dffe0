#!/usr/bin/env bash
# Check a built bundle the way a user without Python would run it (45-70 s on 2 busy cores).
#
#   packaging/verify_bundle.sh [dist/PhotoSearch]
#
# Every bundle command runs under `env -i` with PATH set to an empty folder: no venv, no python, no
# PYTHONPATH, a fresh HOME. It checks that
#   1. `photosearch --version` and `photosearch models --json` work (the starter model is offline-ready);
#   2. `photosearch index` indexes a folder of real photos (Debian's mate-backgrounds) with the starter model
#      built from the bundled weights, and `photosearch search "a yellow flower"` ranks YellowFlower.jpg first;
#   3. `photosearch-gui` starts under Xvfb, stays up for GUI_SECONDS (default 8) without crashing or writing a
#      crash report, and a screenshot of the screen is saved (verify-out/gui.png);
# and prints one JSON line with the timings. Exit 0 only if all pass.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$REPO/dist/PhotoSearch}" && pwd)
OUT=${VERIFY_OUT:-$REPO/build/verify-out}
GUI_SECONDS=${GUI_SECONDS:-8}
PHOTOS_SRC=${PHOTOS_SRC:-/usr/share/backgrounds/mate/nature}
T=$(mktemp -d)
XPID=""
cleanup() { [ -n "$XPID" ] && kill "$XPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$OUT" "$T/home" "$T/emptybin" "$T/photos"
fail() { echo "verify: FAIL: $*" >&2; exit 1; }
t0=$(date +%s)

# A user's environment minus any Python: only HOME, an empty PATH, a locale and the app's home.
CLEAN_ENV=(HOME="$T/home" PATH="$T/emptybin" LANG=C.UTF-8 PHOTOSEARCH_HOME="$T/home/ps")
run() { env -i "${CLEAN_ENV[@]}" "$@"; }
run sh -c 'command -v python3 || command -v python' >/dev/null 2>&1 && fail "python is reachable on PATH"
[ -x "$B/photosearch" ] || fail "no CLI executable at $B/photosearch"

run "$B/photosearch" --version | tee "$OUT/version.txt"
run "$B/photosearch" models --json > "$OUT/models.json" || fail "photosearch models --json"
grep -q '"name": "starter"' "$OUT/models.json" || fail "starter model not listed"
grep -q '"offline_ready": true' "$OUT/models.json" || fail "starter model not offline-ready"

for f in YellowFlower Aqua Storm Wood GreenMeadow LadyBird Dune RainDrops; do
  cp "$PHOTOS_SRC/$f.jpg" "$T/photos/" 2>/dev/null || fail "sample photo $PHOTOS_SRC/$f.jpg missing (apt-get install mate-backgrounds)"
done
t_index=$(date +%s)
run "$B/photosearch" index "$T/photos" --json > "$OUT/index.json" 2> "$OUT/index.err" \
  || { cat "$OUT/index.err" >&2; fail "photosearch index"; }
grep -q '"indexed": 8' "$OUT/index.json" || { cat "$OUT/index.json" >&2; fail "expected 8 photos indexed"; }
t_search=$(date +%s)
run "$B/photosearch" search "a yellow flower" --top 3 --json > "$OUT/search.json" 2> "$OUT/search.err" \
  || { cat "$OUT/search.err" >&2; fail "photosearch search"; }
top=$(grep -o '"path": "[^"]*"' "$OUT/search.json" | head -1)
case "$top" in *YellowFlower.jpg*) ;; *) cat "$OUT/search.json" >&2; fail "top hit for 'a yellow flower' is $top";; esac
t_gui=$(date +%s)

# The GUI, on a virtual X screen of its own.
command -v Xvfb >/dev/null || fail "Xvfb not installed (apt-get install xvfb)"
DISP=:$(( 90 + RANDOM % 9 ))
Xvfb "$DISP" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
sleep 1
run DISPLAY="$DISP" QT_QPA_PLATFORM=xcb "$B/photosearch-gui" > "$OUT/gui.log" 2>&1 &
GPID=$!
sleep "$GUI_SECONDS"
alive=1; kill -0 "$GPID" 2>/dev/null || alive=0
mapped=unknown
if command -v xwininfo >/dev/null; then
  # A top-level window titled PhotoSearch is on the screen (not just a process that is still alive).
  DISPLAY="$DISP" xwininfo -root -tree | grep -q '"PhotoSearch": ("photosearch-gui"' && mapped=yes || mapped=no
fi
if command -v import >/dev/null; then DISPLAY="$DISP" import -window root "$OUT/gui.png" || true; fi
if [ "$alive" = 1 ]; then kill "$GPID"; wait "$GPID" 2>/dev/null || true
else wait "$GPID" && rc=0 || rc=$?; cat "$OUT/gui.log" >&2; fail "photosearch-gui exited early (rc=$rc)"; fi
[ "$mapped" != no ] || fail "no PhotoSearch window appeared on the X screen"
ls "$T/home/ps/logs"/crash-*.txt >/dev/null 2>&1 && { cat "$T/home/ps/logs"/crash-*.txt >&2; fail "the GUI wrote a crash report"; }
# Not a black screen: the window drew something (the screenshot has more than a handful of colours).
if [ -f "$OUT/gui.png" ] && command -v identify >/dev/null; then
  colours=$(identify -format '%k' "$OUT/gui.png")
  [ "$colours" -gt 16 ] || fail "the GUI screenshot is blank ($colours colours)"
fi
# Time to the window's first paint, measured by the app itself (offscreen, so no X server is involved).
paint=$(timeout 60 env -i "${CLEAN_ENV[@]}" QT_QPA_PLATFORM=offscreen PHOTOSEARCH_STARTUP_PROBE=paint "$B/photosearch-gui" 2>/dev/null \
        | grep -o '"first_paint_s": [0-9.]*' | grep -o '[0-9.]*$' || true)
t_end=$(date +%s)
echo "verify: OK: CLI, index, search (top hit ${top#*: }), GUI up for ${GUI_SECONDS}s; screenshot $OUT/gui.png" >&2
echo "{\"ok\": true, \"seconds\": $((t_end - t0)), \"index_s\": $((t_search - t_index)), \"search_s\": $((t_gui - t_search)), \"gui_s\": $((t_end - t_gui)), \"gui_first_paint_s\": ${paint:-null}, \"window_mapped\": \"$mapped\", \"bundle_size\": \"$(du -sh "$B" | cut -f1)\"}"
