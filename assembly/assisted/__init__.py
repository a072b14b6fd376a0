"""Assisted participation: a muhtar acting for a resident who has no smartphone or e-mail."""
