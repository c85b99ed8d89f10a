"""Mutation testing of the money and trust modules (`make mutate`); see runner.py."""
