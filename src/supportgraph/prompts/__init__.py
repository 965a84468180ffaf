"""Prompts as versioned files: registry, rendering, lint, labels and history."""
