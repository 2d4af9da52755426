"""Lumetrix training service."""
