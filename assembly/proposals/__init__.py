"""Agenda proposals, supports, comments, moderation and following."""
