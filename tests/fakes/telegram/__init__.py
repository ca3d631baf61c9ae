"""A fake Telegram Bot API (:mod:`.api`): the server, and the updates it hands out."""
