"""Developer tools: generators and helpers that never run inside the service."""
