"""Delivery that never loses a message: the outbox, pacing within Telegram's limits, the sender."""
