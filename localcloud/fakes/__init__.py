"""Local fake servers for the external APIs, speaking their wire format over real HTTP."""
