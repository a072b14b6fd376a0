"""Assembly sessions: agenda, meeting, ballots, results and minutes."""
