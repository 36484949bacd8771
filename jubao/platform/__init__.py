"""The service around the business: settings, database, tokens, GraphQL API, command line."""
