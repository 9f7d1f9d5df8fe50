"""`python -m bot run` starts the bot."""

import sys

from bot.entry import main

sys.exit(main())
