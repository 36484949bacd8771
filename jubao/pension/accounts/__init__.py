"""个人账户 and the money that goes into it: contributions, bank collection, the ledger,
interest, statements, money itself."""
