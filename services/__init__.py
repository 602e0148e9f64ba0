"""The demo services front, middle and back: one aiohttp application, three roles."""
