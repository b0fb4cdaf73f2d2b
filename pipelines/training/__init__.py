"""The training agent's engines: the prospect (or champion) the trainee talks to, and scoring."""
