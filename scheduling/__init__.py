"""Time: the injectable clock now; the deadline engine and its JobQueue wiring build on it."""
