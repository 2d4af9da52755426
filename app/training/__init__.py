"""The training domain: catalog, read tracking and progress."""
