from opsdesk.config.cli import main

main()
