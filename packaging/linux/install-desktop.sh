#!/usr/bin/env sh
# Add PhotoSearch to the desktop's application menu (Linux, freedesktop): the .desktop entry, the icons in
# every size and the AppStream metainfo, for one user (default) or system-wide.
#
#   packaging/linux/install-desktop.sh                       # after `pipx install .`: finds photosearch-gui on PATH
#   packaging/linux/install-desktop.sh --exec /opt/PhotoSearch/photosearch-gui --prefix /usr/local   # a bundle
#   packaging/linux/install-desktop.sh --uninstall
#
# Exec= gets the absolute path: desktop sessions often lack ~/.local/bin (pipx's bin folder) on their PATH.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ID=io.github.photosearch.PhotoSearch
PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}"
PREFIX="${PREFIX%/share}"
EXEC=""
UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --exec) EXEC="$2"; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-desktop: unknown option $1" >&2; exit 2 ;;
  esac
done
SHARE="$PREFIX/share"
ICONS="$HERE/../icons/hicolor"

if [ "$UNINSTALL" = 1 ]; then
  rm -f "$SHARE/applications/$ID.desktop" "$SHARE/metainfo/$ID.metainfo.xml"
  find "$SHARE/icons/hicolor" -name "$ID.*" -delete 2>/dev/null || true
  echo "install-desktop: removed PhotoSearch's menu entry from $SHARE"
  exit 0
fi

if [ -z "$EXEC" ]; then
  EXEC=$(command -v photosearch-gui || true)
  [ -n "$EXEC" ] || { echo "install-desktop: photosearch-gui is not on PATH; pass --exec PATH" >&2; exit 1; }
fi
case "$EXEC" in /*) ;; *) EXEC="$(pwd)/$EXEC" ;; esac
[ -x "$EXEC" ] || { echo "install-desktop: $EXEC is not an executable" >&2; exit 1; }
case "$EXEC" in *[[:space:]\"\'\\\$\`]*) echo "install-desktop: the path $EXEC needs quoting; move it" >&2; exit 1 ;; esac

mkdir -p "$SHARE/applications" "$SHARE/metainfo"
sed -e "s|^Exec=photosearch-gui|Exec=$EXEC|" -e "s|^TryExec=photosearch-gui|TryExec=$EXEC|" \
  "$HERE/$ID.desktop" > "$SHARE/applications/$ID.desktop"
cp "$HERE/$ID.metainfo.xml" "$SHARE/metainfo/$ID.metainfo.xml"
for d in "$ICONS"/*/apps; do
  size=$(basename "$(dirname "$d")")
  mkdir -p "$SHARE/icons/hicolor/$size/apps"
  cp "$d"/"$ID".* "$SHARE/icons/hicolor/$size/apps/"
done
# Refresh the caches the menus read; harmless where the tools are missing.
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
echo "install-desktop: PhotoSearch added to the application menu ($SHARE/applications/$ID.desktop -> $EXEC)"
