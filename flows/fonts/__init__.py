"""The font the PNG charts are drawn with (a DejaVu Sans subset, see README.md and LICENSE)."""
