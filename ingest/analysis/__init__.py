"""Transcript analysis: conversation metrics and the offline pattern and scenario engines."""
