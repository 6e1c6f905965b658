import sys

from pipelines.alerts.probe import main

sys.exit(main())
