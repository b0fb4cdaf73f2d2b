"""Queries shared by routes, agents and jobs: keyword-only functions over an AsyncSession."""
