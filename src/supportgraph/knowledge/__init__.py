"""Knowledge layer: load and validate articles, chunk, embed, index, retrieve."""
