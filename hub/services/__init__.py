"""Domain services: plain async functions ``verb_noun(session, ...)``.

They only flush; the caller owns the transaction (``async with session.begin()``).
"""
