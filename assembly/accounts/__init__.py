"""Accounts: users, login sessions, passwords."""
