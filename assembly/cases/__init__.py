"""Forwarded items: cases at bodies, their hash-chained timelines, the staff inbox."""
