"""Who may do what, where: operators, the role catalogue, grants bound to regions, decisions."""
