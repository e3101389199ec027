"""Duty discipline (SPEC §3.7): handover, duty log, spot checks, swaps."""
