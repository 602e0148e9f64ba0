"""Reports of a run: its verdict, fault window and timeline, for a terminal or a browser."""
