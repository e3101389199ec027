"""Transport helpers shared by every handler: the typed context, answering through the outbox, menus."""
