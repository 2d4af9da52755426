"""Example clients of the platform (not service code)."""
