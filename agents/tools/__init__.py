"""Agent tools: the decorator, their JSON schemas, and the committed definitions files."""
