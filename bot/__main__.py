"""`python -m bot run` starts the bot."""

import sys

from bot.cli import main

sys.exit(main())
