"""Small pieces every room uses: settings, theme, resources, platform actions, the PySide6 compatibility shim."""
