"""The durable inbox: every update is stored before Telegram is told it arrived, then handled
from the table in order per chat (SPEC §9: an update is either handled or redelivered)."""
