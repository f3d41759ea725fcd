"""Forms of the loyalty pages, one module per topic: they parse input shape only (amounts typed in yuan
arrive in fen); the rules live in the services."""
