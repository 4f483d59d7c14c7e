"""One module per conversation concern; the route table in bot/router.py says which runs when."""
