"""Which way a question goes: the router (intents learnt from examples in every language) and the scope guard."""
