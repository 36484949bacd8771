"""The GraphQL API: thin resolvers over the services in ``authz``, ``tenants`` and ``pension``."""
