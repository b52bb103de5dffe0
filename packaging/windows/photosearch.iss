; Inno Setup script: installs the PyInstaller folder dist\PhotoSearch and adds Start-menu shortcuts.
; Build on Windows after `pyinstaller packaging\photosearch.spec`:  iscc packaging\windows\photosearch.iss
; (Not built by CI: it needs Windows and Inno Setup 6. Keep AppVersion in step with pyproject.toml.)

#define AppName "PhotoSearch"
#define AppVersion "0.1.0"
#define AppId "io.github.photosearch.PhotoSearch"

[Setup]
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=PhotoSearch developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
OutputBaseFilename=PhotoSearch-{#AppVersion}-setup
SetupIconFile=..\icons\photosearch.ico
UninstallDisplayIcon={app}\photosearch-gui.exe
Compression=lzma2/ultra64
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog

[Files]
Source: "..\..\dist\PhotoSearch\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Tasks]
Name: "desktopicon"; Description: "Create a &desktop shortcut"; Flags: unchecked

[Icons]
; The Start-menu entry runs the windowed executable; AppUserModelID groups its windows under this shortcut.
Name: "{group}\{#AppName}"; Filename: "{app}\photosearch-gui.exe"; AppUserModelID: "{#AppId}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\photosearch-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\photosearch-gui.exe"; Description: "Start {#AppName}"; Flags: nowait postinstall skipifsilent
