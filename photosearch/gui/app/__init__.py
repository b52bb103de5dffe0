"""The main window and what hangs off it: the launcher, menus, the window's dialogs, the status line."""
