"""The caching layer: the only code that talks to Redis."""
