"""Policy as data: effective-dated parameters and their reviewed changes."""
