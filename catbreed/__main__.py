import sys

from catbreed.cli import main

sys.exit(main())
