import sys

from mutate.runner import main

sys.exit(main())
