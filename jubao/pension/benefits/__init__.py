"""待遇: the benefit side — who reaches the pension age, the award (待遇核定) and what it pays."""
