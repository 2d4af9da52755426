"""Demo catalog: TOML templates and the generator that renders them."""
