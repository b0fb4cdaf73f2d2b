"""The training agent: its tools (`agent`), the session service, the dialogue engines the
trainee talks to (offline and Claude), scoring, coaching and scorecards."""
