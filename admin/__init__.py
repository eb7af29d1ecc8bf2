"""The staff side: accounts and roles, the survey builder, key custody, analysis,
reports and the company portal. It uses survey/'s models, crypto and definitions;
nothing in survey/ imports it except the app factory."""
