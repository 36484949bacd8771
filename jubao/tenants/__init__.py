"""The region tree: five administrative levels, addressed by 12-digit statistical codes."""
