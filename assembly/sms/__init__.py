"""SMS: the outbox, the senders (console, 46elks) and the one-time codes sent to phones."""
