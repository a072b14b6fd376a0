"""In-app notifications and the e-mail outbox."""
