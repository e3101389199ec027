"""Directives (督办, SPEC §3.6): instructions going down, answers coming back on time."""
