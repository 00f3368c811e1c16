"""Reading and writing files: scenarios, field data, result folders and provenance."""
