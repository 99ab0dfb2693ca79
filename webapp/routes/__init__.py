"""The web app's routers, one per concern: auth (login, sessions, language), queue (the review
queue, taking and releasing claims), claim (a claim's page, images, words and region reading),
changes (corrections, tables, merge and split, decisions), uploads (the claimant's upload page
and API) and admin (accounts and statistics). Each shares the app's parts through
`webapp.deps` (`Web`, `User`, `Reviewer`, `Admin`) rather than closures."""
