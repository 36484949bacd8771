"""业务申请 and their review: applications, the review engine, application forms, the registry
of kinds."""
