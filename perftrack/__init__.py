"""perftrack: live, exact trading performance tracking for bots."""
