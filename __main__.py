from tinyperf.runner.cli import main

raise SystemExit(main())
