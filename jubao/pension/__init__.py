"""The 城乡居保 business: people, applications (maker-checker), policy, contributions, accounts.

Services here take a database session and an `Actor`, return plain objects or raise
`DomainError`; nothing here knows about HTTP or GraphQL.
"""
