"""参保人 and everything about who they are: the person record, ID numbers, enrolment, changes,
suspension, the other schemes' lists, bulk import, personal-data masking."""
