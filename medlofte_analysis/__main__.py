"""`python -m medlofte_analysis` runs the `medlofte` command line."""

from medlofte_analysis.cli import main

raise SystemExit(main())
