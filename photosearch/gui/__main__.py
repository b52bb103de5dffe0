from photosearch.gui.app.launcher import main

raise SystemExit(main())
