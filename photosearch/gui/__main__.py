from photosearch.gui.launcher import main

raise SystemExit(main())
